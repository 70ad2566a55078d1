import { createHash } from 'node:crypto';

const BLOCK = 251 * 512;
// one block of the pattern, 251 bytes longer than any slice handed out, so every slice is a view
const cached = Buffer.allocUnsafe(BLOCK + 251);
for (let i = 0; i < cached.length; i++) cached[i] = i % 251;

/** The test pattern both ends agree on (also used by the libnice peer): byte i is i mod 251. */
export function patternChunk(offset: number, length: number): Buffer {
  if (length <= BLOCK) {
    const start = offset % 251;
    return cached.subarray(start, start + length);
  }
  const chunk = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) chunk[i] = (offset + i) % 251;
  return chunk;
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
