import { crc32 } from 'node:zlib';

/** What a frame carries, by its first byte (RFC 7983 §7). */
export type PayloadKind = 'stun' | 'dtls' | 'rtp' | 'data';

const STUN_HEADER_SIZE = 20;
const MAGIC_COOKIE = 0x2112a442;
const FINGERPRINT_TYPE = 0x8028;
const FINGERPRINT_SIZE = 8;
const FINGERPRINT_XOR = 0x5354554e;

/** RFC 7983 first-byte ranges: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP, anything else data. */
export function classifyPayload(frame: Buffer): PayloadKind {
  const first = frame[0];
  if (first === undefined) return 'data';
  if (first <= 3) return 'stun';
  if (first >= 20 && first <= 63) return 'dtls';
  if (first >= 128 && first <= 191) return 'rtp';
  return 'data';
}

/**
 * False when a frame of `length` bytes starting with `firstByte` cannot pass {@link isStunFrame}: lets a
 * byte stream's frames through before they are whole, since most are ruled out by their first byte. When
 * the frame's first 8 bytes are at hand (`chunk` from `offset`), the magic cookie and the STUN length rule
 * out the rest: binary data is full of leading zeros, and each frame held back for the check is a copy.
 */
export function mayBeStunFrame(firstByte: number, length: number, chunk?: Buffer, offset = 0): boolean {
  if (firstByte > 3 || length < STUN_HEADER_SIZE + FINGERPRINT_SIZE) return false;
  if (chunk === undefined || chunk.length - offset < 8) return true;
  return (
    chunk.readUInt32BE(offset + 4) === MAGIC_COOKIE &&
    chunk.readUInt16BE(offset + 2) + STUN_HEADER_SIZE === length
  );
}

/**
 * True only for a whole STUN message ending in a valid FINGERPRINT. In stream mode application
 * bytes share the frames and may start with 0x00..0x03 too; FINGERPRINT is what RFC 8489 §14.7
 * provides to tell STUN apart, so a first-byte test alone would misroute data.
 */
export function isStunFrame(frame: Buffer): boolean {
  if (frame.length < STUN_HEADER_SIZE + FINGERPRINT_SIZE) return false;
  if ((frame[0] as number) > 3) return false;
  if (frame.readUInt32BE(4) !== MAGIC_COOKIE) return false;
  if (frame.readUInt16BE(2) + STUN_HEADER_SIZE !== frame.length) return false;
  const at = frame.length - FINGERPRINT_SIZE;
  if (frame.readUInt16BE(at) !== FINGERPRINT_TYPE || frame.readUInt16BE(at + 2) !== 4) return false;
  const expected = (crc32(frame.subarray(0, at)) ^ FINGERPRINT_XOR) >>> 0;
  return frame.readUInt32BE(at + 4) === expected;
}
