import { crc32 } from 'node:zlib';

/** A STUN message with `bodyLength` bytes of attribute space and, if asked, a valid FINGERPRINT. */
export function stunMessage(bodyLength: number, opts: { fingerprint?: boolean; seed?: number } = {}): Buffer {
  const fingerprint = opts.fingerprint ?? false;
  const length = bodyLength + (fingerprint ? 8 : 0);
  const message = Buffer.alloc(20 + length);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt16BE(length, 2);
  message.writeUInt32BE(0x2112a442, 4);
  for (let i = 8; i < 20 + bodyLength; i++) message[i] = (i * 31 + (opts.seed ?? 0)) & 0xff;
  if (fingerprint) {
    const at = 20 + bodyLength;
    message.writeUInt16BE(0x8028, at);
    message.writeUInt16BE(4, at + 2);
    message.writeUInt32BE((crc32(message.subarray(0, at)) ^ 0x5354554e) >>> 0, at + 4);
  }
  return message;
}

/** `data` cut at the given sorted offsets. */
export function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(data.subarray(from, cut));
    from = cut;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

/** Payload bytes that differ from frame to frame, so misplaced boundaries show. */
export function payload(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed * 13) & 0xff;
  return out;
}

/** Frame-list equality via Buffer.equals: a deep `toEqual` on 64 KiB frames, 65k times over, takes minutes. */
export function sameFrames(actual: Buffer[], expected: Buffer[]): boolean {
  return actual.length === expected.length && actual.every((frame, i) => frame.equals(expected[i] as Buffer));
}
