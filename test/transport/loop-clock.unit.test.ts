import { describe, expect, it } from 'vitest';
import { LoopClock } from '../../src/transport/loop-clock.js';

/** A clock on a fake wall clock with a ticker the test runs by hand. */
function fakeClock() {
  let real = 1000;
  let tick: (() => void) | undefined;
  let stops = 0;
  const clock = new LoopClock(
    () => real,
    (t) => {
      tick = t;
      return () => {
        tick = undefined;
        stops++;
      };
    },
  );
  return {
    clock,
    advance(ms: number, ticking = true) {
      // the ticker runs every 50 ms while the loop turns; a stall is one jump with no tick inside
      if (!ticking) {
        real += ms;
        tick?.();
        return;
      }
      for (let left = ms; left > 0; left -= 50) {
        real += Math.min(50, left);
        tick?.();
      }
    },
    /** Time passes inside one turn: no tick runs. */
    jump(ms: number) {
      real += ms;
    },
    get ticking() {
      return tick !== undefined;
    },
    get stops() {
      return stops;
    },
  };
}

describe('LoopClock', () => {
  it('runs with the wall clock while the loop turns', () => {
    const f = fakeClock();
    const t0 = f.clock.now();
    f.advance(1000);
    expect(f.clock.now() - t0).toBe(1000);
    expect(f.clock.stalledMs).toBe(0);
  });

  it('leaves out a stall beyond the slack, and is continuous and monotonic across it', () => {
    const f = fakeClock();
    const t0 = f.clock.now();
    f.advance(100);
    const before = f.clock.now();
    f.advance(3000, false); // the loop blocked for 3 s: one late tick
    const after = f.clock.now();
    expect(after).toBeGreaterThanOrEqual(before);
    expect(after - t0).toBeLessThan(100 + 160);
    expect(f.clock.stalledMs).toBeGreaterThan(2800);
    f.advance(500);
    expect(f.clock.now() - after).toBe(500);
  });

  it('stops at the last tick plus the slack while a stall is still on (read before the ticker ran)', () => {
    const f = fakeClock();
    f.advance(100);
    const tickedAt = f.clock.now();
    let last = tickedAt;
    for (let i = 0; i < 20; i++) {
      // reads inside one long turn: no tick runs
      f.jump(200);
      const now = f.clock.now();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    expect(last - tickedAt).toBeLessThanOrEqual(150);
  });

  it('stops ticking when nobody reads it, and starts again on the next read', () => {
    const f = fakeClock();
    f.clock.now();
    expect(f.ticking).toBe(true);
    f.advance(59_000);
    expect(f.ticking).toBe(true);
    f.advance(1100);
    expect(f.ticking).toBe(false);
    expect(f.stops).toBe(1);
    const t = f.clock.now();
    expect(f.ticking).toBe(true);
    f.advance(100);
    expect(f.clock.now() - t).toBe(100);
  });
});
