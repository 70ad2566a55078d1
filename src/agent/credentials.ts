import { randomBytes } from 'node:crypto';

// ice-chars are ALPHA / DIGIT / "+" / "/" (RFC 8445 §5.3); base64 without padding yields exactly those.
function iceChars(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64')
    .replace(/=/g, '')
    .slice(0, length);
}

/** Local ICE credentials: ufrag with 24 bits of randomness at least, pwd with 128 (RFC 8445 §5.3). */
export interface IceParameters {
  ufrag: string;
  pwd: string;
}

/** Fresh random credentials (8-char ufrag, 24-char pwd; libnice wants >= 4 and >= 22). */
export function generateParameters(): IceParameters {
  return { ufrag: iceChars(8), pwd: iceChars(24) };
}

/** A random 64-bit tie-breaker (RFC 8445 §7.3.1.1). */
export function generateTieBreaker(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}
