import { NbtError } from '../util/errors.js';
import { DisconnectReason } from './disconnect.js';

/** The disconnect reason for an error raised while decoding the remote's bytes. */
export function reasonForError(e: unknown): DisconnectReason {
  if (!(e instanceof NbtError)) return DisconnectReason.MALFORMED_PACKET;
  switch (e.code) {
    case 'WIRE_BAD_HANDSHAKE':
    case 'WIRE_HANDSHAKE_TRUNCATED':
      return DisconnectReason.MALFORMED_HANDSHAKE;
    case 'WIRE_MESSAGE_TOO_LARGE':
      return DisconnectReason.MESSAGE_TOO_LARGE;
    case 'PEER_HANDSHAKE_INFOHASH':
      return DisconnectReason.HANDSHAKE_INFOHASH;
    case 'PEER_ENCRYPTION_REQUIRED':
      return DisconnectReason.ENCRYPTION_REQUIRED;
    case 'PEER_ENCRYPTION_DISABLED':
      return DisconnectReason.ENCRYPTION_DISABLED;
    case 'MSE_BAD_VC':
      return DisconnectReason.MSE_BAD_VC;
    case 'MSE_SYNC_FAILED':
      return DisconnectReason.HANDSHAKE_SYNC_DH5;
    case 'MSE_UNKNOWN_SKEY':
      return DisconnectReason.MSE_UNKNOWN_SKEY;
    case 'MSE_NO_CRYPTO_METHOD':
      return DisconnectReason.MSE_NO_CRYPTO_METHOD;
    default:
      return e.code.startsWith('MSE_')
        ? DisconnectReason.MSE_HANDSHAKE_FAILED
        : DisconnectReason.MALFORMED_PACKET;
  }
}
