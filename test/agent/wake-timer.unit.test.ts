import { describe, expect, it } from 'vitest';
import { generateParameters, generateTieBreaker } from '../../src/agent/credentials.js';
import { WakeTimer } from '../../src/agent/wake-timer.js';

/**
 * The agent's wake-up (agent/wake-timer.ts) on a clock the test moves: it fires once the clock reaches the wake-up,
 * never before (RFC 8445 §14.2: Ta is a floor), however early Node's timer or the loop turns come round.
 */

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** A wake timer on a clock set by hand, counting its fires; `fired` resolves at the first one. */
function timer(): { wake: WakeTimer; clock: { now: number }; fires: () => number; fired: Promise<void> } {
  const clock = { now: 0 };
  let count = 0;
  let resolve: () => void = () => undefined;
  const fired = new Promise<void>((r) => {
    resolve = r;
  });
  const wake = new WakeTimer(
    () => clock.now,
    () => {
      count += 1;
      resolve();
    },
  );
  return { wake, clock, fires: () => count, fired };
}

describe('WakeTimer', () => {
  it('waits out a sub-ms rest turn by turn, and fires once the clock gets there, not before', async () => {
    const { wake, clock, fires, fired } = timer();
    wake.arm(0.6, false, () => false);
    await turns(20);
    clock.now = 0.59;
    await turns(5);
    expect(fires()).toBe(0);
    clock.now = 0.6;
    await fired;
    await turns(5);
    expect(fires()).toBe(1);
  });

  it('a timer that comes round before the wake-up fires nothing and waits again', async () => {
    const { wake, clock, fires, fired } = timer();
    wake.arm(2.4, false, () => false);
    // the clock stands still: whenever Node's 2 ms timer comes, it is early
    await new Promise((r) => setTimeout(r, 20));
    expect(fires()).toBe(0);
    clock.now = 2.4;
    await fired;
    expect(fires()).toBe(1);
    wake.clear();
  });

  it('with consent due it fires after the I/O phase, once', async () => {
    const { wake, clock, fires, fired } = timer();
    clock.now = 5;
    wake.arm(4, true, () => true);
    await fired;
    await turns(5);
    expect(fires()).toBe(1);
  });

  it('clear() cancels a pending wake-up, timer or turn', async () => {
    const { wake, clock, fires } = timer();
    wake.arm(0.5, false, () => false);
    wake.clear();
    wake.arm(3, false, () => false);
    wake.clear();
    clock.now = 10;
    await new Promise((r) => setTimeout(r, 20));
    await turns(5);
    expect(fires()).toBe(0);
  });
});

describe('credentials from one batch of random bytes', () => {
  it('ufrag and pwd are ice-chars of the right length, distinct across many batches', () => {
    const seen = new Set<string>();
    // 24 bytes a set from a 1,536-byte batch: 1,000 sets span 16 batches and their boundaries
    for (let i = 0; i < 1000; i++) {
      const { ufrag, pwd } = generateParameters();
      expect(ufrag).toMatch(/^[A-Za-z0-9+/]{8}$/);
      expect(pwd).toMatch(/^[A-Za-z0-9+/]{24}$/);
      seen.add(ufrag).add(pwd);
      generateTieBreaker();
    }
    expect(seen.size).toBe(2000);
  });
});
