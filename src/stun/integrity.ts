import { createHash, createHmac, type KeyObject, randomFillSync } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FINGERPRINT_XOR, TRANSACTION_ID_LENGTH } from './constants.js';

/** A MESSAGE-INTEGRITY key: raw bytes, or a KeyObject made once with `crypto.createSecretKey` to save work per message. */
export type IntegrityKey = Buffer | KeyObject;

/** Short-term credential key (RFC 8489 §9.1.1): the UTF-8 password itself (ICE passwords are ASCII, so no OpaqueString work). */
export function shortTermKey(password: string): Buffer {
  return Buffer.from(password, 'utf8');
}

/** Long-term credential key (RFC 8489 §9.2.2, MD5 algorithm): MD5(username ":" realm ":" password). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

// One randomFillSync per 1024 ids: the call costs about as much as the 12 bytes it would fill.
const ID_POOL_SIZE = 1024 * TRANSACTION_ID_LENGTH;
const idPool = Buffer.alloc(ID_POOL_SIZE);
let idPoolOffset = ID_POOL_SIZE;

/** Writes a fresh random 96-bit transaction id (from a CSPRNG, drawn in batches) at `target[offset]`. */
export function writeTransactionId(target: Buffer, offset: number): void {
  if (idPoolOffset === ID_POOL_SIZE) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  // A JS loop: for 12 bytes the native copy's argument checks cost more than the copy.
  for (let i = 0; i < TRANSACTION_ID_LENGTH; i++) target[offset + i] = idPool[idPoolOffset + i] ?? 0;
  idPoolOffset += TRANSACTION_ID_LENGTH;
}

/** A fresh random 96-bit transaction id (from a CSPRNG, drawn in batches). */
export function newTransactionId(): Buffer {
  const id = Buffer.allocUnsafe(TRANSACTION_ID_LENGTH);
  writeTransactionId(id, 0);
  return id;
}

/** HMAC-SHA1 of `data` (RFC 8489 §14.5). */
export function hmacSha1(key: IntegrityKey, data: Buffer): Buffer {
  return createHmac('sha1', key).update(data).digest();
}

/** HMAC-SHA256 of `data` (RFC 8489 §14.6). */
export function hmacSha256(key: IntegrityKey, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The FINGERPRINT value of the bytes before the FINGERPRINT attribute (RFC 8489 §14.7). */
export function fingerprintOf(data: Buffer): number {
  return (crc32(data) ^ FINGERPRINT_XOR) >>> 0;
}
