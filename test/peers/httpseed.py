#!/usr/bin/env python3
"""A BEP 17 HTTP seed script server for tests (the role DeHackEd's seed.php plays).

  httpseed.py PORT INFO_HASH_HEX PIECE_LENGTH FILE [FILE...] [--busy N --wait S]

Serves GET /seed?info_hash=<20 bytes>&piece=N[&ranges=a-b,c-d] from the files (in torrent
order, read as one byte stream): 200 with the piece (or the ranges of it, inclusive, appended),
404 for another info-hash, 400 for bad parameters. The first N requests get 503 with the body S
(seconds to wait). Binds 127.0.0.1; prints "listening" once ready.
"""
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
busy, wait = 0, '1'
if '--busy' in args:
    i = args.index('--busy'); busy = int(args[i + 1]); del args[i:i + 2]
if '--wait' in args:
    i = args.index('--wait'); wait = args[i + 1]; del args[i:i + 2]
port, info_hash, piece_length, files = int(args[0]), bytes.fromhex(args[1]), int(args[2]), args[3:]
sizes = [os.path.getsize(f) for f in files]
total = sum(sizes)
state = {'busy': busy}


def read(offset, length):
    out = b''
    pos = 0
    for f, size in zip(files, sizes):
        if length == 0:
            break
        if offset < pos + size:
            start = offset - pos
            n = min(length, size - start)
            with open(f, 'rb') as fh:
                fh.seek(start)
                out += fh.read(n)
            offset += n
            length -= n
        pos += size
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, encoding='latin-1')
        if state['busy'] > 0:
            state['busy'] -= 1
            return self.reply(503, wait.encode())
        try:
            ih = q['info_hash'][0].encode('latin-1')
            piece = int(q['piece'][0])
        except (KeyError, ValueError):
            return self.reply(400, b'bad request')
        if ih != info_hash:
            return self.reply(404, b'no such torrent')
        start = piece * piece_length
        size = min(piece_length, total - start)
        if piece < 0 or size <= 0:
            return self.reply(400, b'bad piece')
        ranges = [(0, size - 1)]
        if 'ranges' in q:
            ranges = []
            for r in q['ranges'][0].split(','):
                a, b = (int(x) for x in r.split('-'))
                if a < 0 or b < a or b >= size:
                    return self.reply(400, b'bad range')
                ranges.append((a, b))
        self.reply(200, b''.join(read(start + a, b - a + 1) for a, b in ranges))


server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
print('listening', flush=True)
server.serve_forever()
