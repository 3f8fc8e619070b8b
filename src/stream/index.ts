export { TorrentFileEntry, torrentFiles } from './torrent-file.js';
export { FileReadStream, type FileReadOptions } from './file-reader.js';
export { StreamServer, createStreamServer, filePath, type StreamServerOptions } from './http-server.js';
export { contentType } from './mime.js';
