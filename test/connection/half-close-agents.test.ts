import { afterEach, describe, expect, it } from 'vitest';
import { agentPair } from '../agent/helpers.js';
import { nextEvent } from '../transport/helpers.js';
import { countUntilEnd, valueAfter, writeBytes } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Two agents on loopback, connected: the sockets come from the real transport (dial, listener). */
async function connectedPair() {
  const p = agentPair(
    { role: 'controlling', addresses: ['127.0.0.1'] },
    { role: 'controlled', addresses: ['127.0.0.1'] },
  );
  cleanups.push(() => p.close());
  const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
  return { ca, cb };
}

describe('half-close between two agents (stream mode)', () => {
  it('A ends first, B then sends 8 MiB: A receives all 8 MiB, then both connections close', async () => {
    const { ca, cb } = await connectedPair();
    const sa = ca.stream();
    const sb = cb.stream();
    const closes = Promise.all([nextEvent(ca, 'close'), nextEvent(cb, 'close')]).then(() => 'closed');
    const atA = countUntilEnd(sa);
    const atB = countUntilEnd(sb);
    sa.end();
    expect(await Promise.race([atB, valueAfter(5000, -1)])).toBe(0);
    const n = 8 * 1024 * 1024;
    await Promise.race([writeBytes(sb, n, true), valueAfter(20_000, undefined)]);
    expect(await Promise.race([atA, valueAfter(20_000, -1)])).toBe(n);
    expect(await Promise.race([closes, valueAfter(5000, 'hung')])).toBe('closed');
  });

  it('both sides end() during a bidirectional transfer of up to 64 MiB each way: no hang, no loss', {
    timeout: 120_000,
  }, async () => {
    const MiB = 1024 * 1024;
    // unequal sizes: one side's FIN arrives while the other is still writing
    const sizes: Array<[number, number]> = [
      [64 * MiB, 64 * MiB],
      [16 * MiB, 64 * MiB],
      [64 * MiB, 16 * MiB],
    ];
    for (const [nA, nB] of sizes) {
      const { ca, cb } = await connectedPair();
      const sa = ca.stream();
      const sb = cb.stream();
      const closes = Promise.all([nextEvent(ca, 'close'), nextEvent(cb, 'close')]);
      const outcome = Promise.all([
        countUntilEnd(sa),
        countUntilEnd(sb),
        writeBytes(sa, nA, true),
        writeBytes(sb, nB, true),
        closes,
      ]).then(([atA, atB]) => ({ atA, atB }));
      expect(await Promise.race([outcome, valueAfter(30_000, 'hung')])).toEqual({ atA: nB, atB: nA });
      for (const cleanup of cleanups.splice(0)) cleanup();
    }
  });
});
