import { MAGIC_COOKIE, STUN_HEADER_LENGTH } from './constants.js';

/**
 * Total size (header included) of the STUN message whose header starts `buf`, or `undefined`
 * when the first 20 bytes are not a plausible STUN header (top bits, magic cookie, length % 4).
 * Meant for stream splitters that need the size before the whole message has arrived.
 */
export function stunMessageLength(buf: Buffer): number | undefined {
  if (buf.length < STUN_HEADER_LENGTH) return undefined;
  if ((buf[0] ?? 0xff) & 0xc0) return undefined;
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  const length = buf.readUInt16BE(2);
  if (length & 3) return undefined;
  return STUN_HEADER_LENGTH + length;
}

/** cheap demux test (RFC 7983 first byte 0..3, magic cookie, length consistent with buf.length). */
export function looksLikeStun(buf: Buffer): boolean {
  if ((buf[0] ?? 0xff) > 3) return false;
  return stunMessageLength(buf) === buf.length;
}
