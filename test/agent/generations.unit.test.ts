import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionPool } from '../../src/agent/connection-pool.js';
import type { IceParameters } from '../../src/agent/credentials.js';
import { ABANDONED, Generation } from '../../src/agent/generation.js';
import { DEFERRED_TEARDOWN_MS, Generations } from '../../src/agent/generations.js';

/**
 * The teardown an ICE restart puts off (agent/generations.ts): it must not run on the way from the new
 * credentials to the nominating check, yet must run once the restart settles, or at a bounded time, or at stop.
 */

/** Generations whose pools only count how often they were closed. */
function generations(): { gens: Generations; made: Generation[] } {
  const made: Generation[] = [];
  const gens = new Generations(
    (id: number, params: IceParameters, initiatedHere: boolean) => {
      const gen = new Generation(id, params, initiatedHere);
      gen.pool = { closeAll: vi.fn() } as unknown as ConnectionPool;
      made.push(gen);
      return gen;
    },
    { ufrag: 'aaaa', pwd: 'a'.repeat(22) },
  );
  return { gens, made };
}

const keep = { checklist: undefined, link: undefined };
const closes = (gen: Generation | undefined) => vi.mocked(gen?.pool.closeAll)?.mock.calls.length ?? -1;
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Generations: teardown put off by a restart', () => {
  it('keeps the generation before the retired one until the switch, then lets it go on the next timer tick', async () => {
    const { gens, made } = generations();
    gens.advance(true, keep); // generation 1 retired: its path carries data
    gens.switched();
    gens.advance(true, keep); // generation 2 retired, generation 1 is to go
    // a few turns: with signalling through setImmediate the peer's answer would be handled here
    await turns(3);
    expect(closes(made[0])).toBe(0);
    gens.switched();
    expect(closes(made[0])).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(closes(made[0])).toBe(1);
    expect(closes(made[1])).toBe(0); // the retired generation lingers: its path may still carry data
    gens.releaseAll();
  });

  it('runs it at the latest DEFERRED_TEARDOWN_MS after the restart when no pair is nominated', () => {
    vi.useFakeTimers();
    const { gens, made } = generations();
    gens.advance(false, undefined); // a restart before any nomination: generation 1 is discarded
    vi.advanceTimersByTime(DEFERRED_TEARDOWN_MS - 1);
    expect(closes(made[0])).toBe(0);
    vi.advanceTimersByTime(1);
    expect(closes(made[0])).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs it at once when the agent stops, and leaves no timer behind', () => {
    vi.useFakeTimers();
    const { gens, made } = generations();
    gens.advance(false, undefined);
    gens.releaseAll();
    expect(closes(made[0])).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts a left generation at once, with a reason (no DOMException built on the restart path)', () => {
    const { gens, made } = generations();
    gens.advance(true, keep);
    gens.advance(false, undefined);
    expect(made[0]?.abort.signal.reason).toBe(ABANDONED);
    expect(made[1]?.abort.signal.reason).toBe(ABANDONED);
    gens.releaseAll();
  });
});
