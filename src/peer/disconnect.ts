/**
 * Why a connection closed. The numbers of Net::BitTorrent 0.050 are kept so that code written
 * against it carries over; codes it did not have are added as stable negative numbers below -200.
 */
export enum DisconnectReason {
  BY_REMOTE = 0,
  LOOPBACK = -10,
  NO_SUCH_TORRENT = -11,
  HANDSHAKE_INFOHASH = -12,
  MALFORMED_HANDSHAKE = -13,
  PREEXISTING = -16,
  TOO_MANY = -17,
  HASHCHECKING = -18,
  MALFORMED_PACKET = -22,
  SEED = -25,
  UNREQUESTED_PIECE = -26,
  TIMEOUT_HANDSHAKE = -30,
  IDLE_TIMEOUT = -40,
  USELESS_PEER = -41,
  MSE_BAD_VC = -101,
  HANDSHAKE_SYNC_DH5 = -102,
  MSE_UNKNOWN_SKEY = -103,
  MSE_NO_CRYPTO_METHOD = -105,
  SOCKET_ERROR = -201,
  CONNECT_FAILED = -202,
  CONNECT_TIMEOUT = -203,
  ENCRYPTION_REQUIRED = -204,
  MESSAGE_TOO_LARGE = -205,
  CORRUPT_DATA = -206,
  TORRENT_STOPPED = -207,
  TORRENT_REMOVED = -208,
  CLOSED_BY_US = -209,
  IP_FILTERED = -210,
  MSE_HANDSHAKE_FAILED = -211,
  ENCRYPTION_DISABLED = -212,
  BANNED = -213,
  CLIENT_CLOSED = -214,
  METADATA_INVALID = -215,
  TORRENT_PAUSED = -216,
  INTERNAL_ERROR = -217,
  WRITE_BUFFER_FULL = -218,
  FLOOD = -219,
}

/** Reasons after which we still try to deliver what we queued (a polite close). */
export const POLITE_REASONS: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  DisconnectReason.CLOSED_BY_US,
  DisconnectReason.NO_SUCH_TORRENT,
  DisconnectReason.PREEXISTING,
  DisconnectReason.TOO_MANY,
  DisconnectReason.SEED,
  DisconnectReason.TORRENT_STOPPED,
  DisconnectReason.TORRENT_REMOVED,
  DisconnectReason.TORRENT_PAUSED,
  DisconnectReason.CLIENT_CLOSED,
  DisconnectReason.USELESS_PEER,
]);

/** The spelling Net::BitTorrent used. */
export const PREXISTING = DisconnectReason.PREEXISTING;

export const disconnectDescriptions: Readonly<Record<DisconnectReason, string>> = {
  [DisconnectReason.BY_REMOTE]: 'the remote peer closed the connection',
  [DisconnectReason.LOOPBACK]: 'we connected to ourselves (same peer id)',
  [DisconnectReason.NO_SUCH_TORRENT]: 'the remote asked for a torrent we do not serve',
  [DisconnectReason.HANDSHAKE_INFOHASH]:
    'the plaintext handshake named another info-hash than the encrypted one',
  [DisconnectReason.MALFORMED_HANDSHAKE]: 'malformed handshake',
  [DisconnectReason.PREEXISTING]: 'already connected to this peer id',
  [DisconnectReason.TOO_MANY]: 'connection limit reached',
  [DisconnectReason.HASHCHECKING]: 'the torrent is being hash-checked',
  [DisconnectReason.MALFORMED_PACKET]: 'malformed message',
  [DisconnectReason.SEED]: 'both sides are seeds',
  [DisconnectReason.UNREQUESTED_PIECE]: 'the peer sent a block we did not request',
  [DisconnectReason.TIMEOUT_HANDSHAKE]: 'the handshake did not complete in time',
  [DisconnectReason.IDLE_TIMEOUT]: 'nothing received for too long',
  [DisconnectReason.USELESS_PEER]: 'neither interested nor interesting for too long',
  [DisconnectReason.MSE_BAD_VC]: 'encryption handshake: bad verification constant',
  [DisconnectReason.HANDSHAKE_SYNC_DH5]: 'encryption handshake: could not synchronise at step 5',
  [DisconnectReason.MSE_UNKNOWN_SKEY]: 'encryption handshake: unknown info-hash (SKEY)',
  [DisconnectReason.MSE_NO_CRYPTO_METHOD]: 'encryption handshake: no common crypto method',
  [DisconnectReason.SOCKET_ERROR]: 'socket error',
  [DisconnectReason.CONNECT_FAILED]: 'could not connect',
  [DisconnectReason.CONNECT_TIMEOUT]: 'connection attempt timed out',
  [DisconnectReason.ENCRYPTION_REQUIRED]: 'encryption is required but the peer spoke plaintext',
  [DisconnectReason.MESSAGE_TOO_LARGE]: 'message longer than the limit',
  [DisconnectReason.CORRUPT_DATA]: 'the peer sent data the hash check proved wrong',
  [DisconnectReason.TORRENT_STOPPED]: 'the torrent was stopped',
  [DisconnectReason.TORRENT_REMOVED]: 'the torrent was removed',
  [DisconnectReason.CLOSED_BY_US]: 'closed by us',
  [DisconnectReason.IP_FILTERED]: 'the address is blocked by the IP filter',
  [DisconnectReason.MSE_HANDSHAKE_FAILED]: 'encryption handshake failed',
  [DisconnectReason.ENCRYPTION_DISABLED]: 'the peer attempted encryption, which is disabled',
  [DisconnectReason.BANNED]: 'the peer is banned',
  [DisconnectReason.CLIENT_CLOSED]: 'the client is shutting down',
  [DisconnectReason.METADATA_INVALID]: 'the peer sent invalid metadata',
  [DisconnectReason.TORRENT_PAUSED]: 'the torrent was paused',
  [DisconnectReason.INTERNAL_ERROR]: 'an engine listener threw while handling this peer (a bug on our side)',
  [DisconnectReason.WRITE_BUFFER_FULL]: 'the peer does not read what we send (write buffer over its cap)',
  [DisconnectReason.FLOOD]:
    'the peer sent more than its input budget (a keep-alive, extension-handshake or message flood)',
};

export function disconnectName(reason: DisconnectReason): string {
  return DisconnectReason[reason] ?? `UNKNOWN_${reason}`;
}

/** What a close event carries: the numeric reason plus whatever detail fits it. */
export interface DisconnectInfo {
  reason: DisconnectReason;
  name: string;
  description: string;
  /** errno code for SOCKET_ERROR / CONNECT_FAILED (e.g. 'ECONNRESET'). */
  errno?: string;
  /** hex info-hash for NO_SUCH_TORRENT and HANDSHAKE_INFOHASH. */
  infoHash?: string;
  /** hex peer id for PREEXISTING and LOOPBACK. */
  peerId?: string;
  /** Free text for anything else worth saying. */
  message?: string;
}

export function disconnectInfo(
  reason: DisconnectReason,
  extra: Partial<DisconnectInfo> = {},
): DisconnectInfo {
  return { ...extra, reason, name: disconnectName(reason), description: disconnectDescriptions[reason] };
}
