import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { sha256Of } from './helpers.js';

/** Options of a {@link BothWays} transfer. */
export interface TransferOptions {
  /** Bytes per write (default 256 KiB). */
  chunk?: number;
  /** Pause between writes, for a transfer that lasts (through a relay, across several restarts). */
  paceMs?: number;
}

/** Writes `n` random bytes with backpressure (and pacing); resolves with their SHA-256. */
async function writeRandom(stream: Duplex, n: number, options: TransferOptions): Promise<string> {
  const hash = createHash('sha256');
  const size = options.chunk ?? 256 * 1024;
  for (let sent = 0; sent < n; sent += size) {
    const piece = randomBytes(Math.min(size, n - sent));
    hash.update(piece);
    if (!stream.write(piece)) await new Promise((r) => stream.once('drain', r));
    if (options.paceMs) await new Promise((r) => setTimeout(r, options.paceMs));
  }
  return hash.digest('hex');
}

/**
 * `n` random bytes each way at once over two streams, with SHA-256 of what was written and read on each end;
 * `received()` tells how far the reads got (the trigger for a restart mid-transfer).
 */
export class BothWays {
  private countA = 0;
  private countB = 0;
  readonly done: Promise<{ sentA: string; sentB: string; readA: string; readB: string }>;

  constructor(a: Duplex, b: Duplex, n: number, options: TransferOptions = {}) {
    a.on('data', (c: Buffer) => {
      this.countA += c.length;
    });
    b.on('data', (c: Buffer) => {
      this.countB += c.length;
    });
    const reads = Promise.all([sha256Of(a, n), sha256Of(b, n)]);
    const writes = Promise.all([writeRandom(a, n, options), writeRandom(b, n, options)]);
    this.done = Promise.all([writes, reads]).then(([[sentA, sentB], [readA, readB]]) => ({
      sentA,
      sentB,
      readA,
      readB,
    }));
    // a failure surfaces through `done`; no unhandled rejection meanwhile
    this.done.catch(() => undefined);
  }

  /** The fewer bytes either side has read so far. */
  received(): number {
    return Math.min(this.countA, this.countB);
  }

  /** Resolves once both sides have read at least `bytes`; rejects after `ms` (or when the transfer fails). */
  async reach(bytes: number, ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    while (this.received() < bytes) {
      if (performance.now() > deadline)
        throw new Error(`transfer stuck at ${this.received()} of ${bytes} bytes`);
      await Promise.race([new Promise((r) => setTimeout(r, 5)), this.done]);
    }
  }
}
