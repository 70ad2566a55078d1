import { randomBytes } from 'node:crypto';

/**
 * Random bytes fetched from the CSPRNG in one call and handed out once each, wiped once used: a `randomBytes`
 * call costs 15-35 µs here whatever its size (two of them were most of a restart's new generation, on its critical
 * path: README, "ICE restart"), 24 bytes of a 1,536-byte batch about 1 µs. Node's `randomUUID()` batches the same
 * way. A `node:cluster` worker is its own process, with its own batch.
 */
const BATCH_BYTES = 1536;
let batch = Buffer.alloc(0);
let taken = 0;

/** Runs `use` on `n` fresh random bytes (n <= BATCH_BYTES), then wipes them. */
function withRandom<T>(n: number, use: (bytes: Buffer) => T): T {
  if (taken + n > batch.length) {
    batch = randomBytes(BATCH_BYTES);
    taken = 0;
  }
  const bytes = batch.subarray(taken, taken + n);
  taken += n;
  try {
    return use(bytes);
  } finally {
    bytes.fill(0);
  }
}

// ice-chars are ALPHA / DIGIT / "+" / "/" (RFC 8445 §5.3); base64 of a multiple of 3 bytes has no padding.
function iceChars(length: number): string {
  return withRandom(Math.ceil(length / 4) * 3, (bytes) => bytes.toString('base64').slice(0, length));
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
  return withRandom(8, (bytes) => bytes.readBigUInt64BE(0));
}
