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
  /**
   * ICE option tokens the side supports beyond `trickle` (RFC 8839 §5.6), e.g. `icetcp+resume`: pass them on
   * with the credentials (the signalling adapters do). Absent: none.
   */
  options?: string[];
  /** The agent is ice-lite (RFC 8445 §2.5: `a=ice-lite`); absent means a full agent. */
  lite?: boolean;
  /**
   * The NAT behaviour the side measured while gathering, as `x-ice-tcp-nat` tokens (e.g. `nat`, `edm`,
   * `seq+1`): present once our gathering is complete; the peer's lets us nominate without waiting for pairs
   * that cannot succeed (README, "Nomination by evidence"). Absent: unknown.
   */
  nat?: string[];
}

/** Fresh random credentials (8-char ufrag, 24-char pwd; libnice wants >= 4 and >= 22). */
export function generateParameters(): IceParameters {
  return { ufrag: iceChars(8), pwd: iceChars(24) };
}

/** A random 64-bit tie-breaker (RFC 8445 §7.3.1.1). */
export function generateTieBreaker(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}
