import { createHash } from 'node:crypto';

// a whole write of the transfer (~1 MB) is a view of this block: generating the pattern must cost nothing
const BLOCK = 251 * 4096;
// one block of the pattern, 251 bytes longer than any slice handed out, so every slice is a view
const period = Buffer.from(Array.from({ length: 251 }, (_, i) => i));
const cached = Buffer.allocUnsafe(BLOCK + 251).fill(period);

/** The test pattern both ends agree on (also used by the libnice peer): byte i is i mod 251. */
export function patternChunk(offset: number, length: number): Buffer {
  if (length <= BLOCK) {
    const start = offset % 251;
    return cached.subarray(start, start + length);
  }
  const start = offset % 251;
  return Buffer.allocUnsafe(length).fill(cached.subarray(start, start + 251));
}

/** SHA-256 of the first `length` bytes of the pattern. */
export function patternSha256(length: number): string {
  const hash = createHash('sha256');
  let done = 0;
  while (done < length) {
    const n = Math.min(BLOCK, length - done);
    hash.update(patternChunk(done, n));
    done += n;
  }
  return hash.digest('hex');
}
