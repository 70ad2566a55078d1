import { describe, expect, it } from 'vitest';
import { PairSignals } from '../../src/agent/pair-signals.js';

describe('PairSignals: per-pair cancellation', () => {
  it('a failed pair aborts its signal; its next check gets a fresh one', () => {
    const signals = new PairSignals();
    const first = signals.signalOf('A');
    expect(signals.signalOf('A')).toBe(first);
    signals.abort('A', 'failed');
    expect(first.aborted).toBe(true);
    expect(first.reason).toMatchObject({ code: 'ERR_ABORTED' });
    const revived = signals.signalOf('A');
    expect(revived).not.toBe(first);
    expect(revived.aborted).toBe(false);
  });

  it('pruned pairs and, after nomination, all but the selected one are aborted', () => {
    const signals = new PairSignals();
    const [a, b, c] = ['A', 'B', 'C'].map((id) => signals.signalOf(id));
    signals.abortMissing((id) => id !== 'B');
    expect([a?.aborted, b?.aborted, c?.aborted]).toEqual([false, true, false]);
    signals.abortAllBut('C', 'another pair was nominated');
    expect([a?.aborted, c?.aborted]).toEqual([true, false]);
    // the kept pair's controller is let go, not aborted: a later check on it gets a signal of its own
    const later = signals.signalOf('C');
    expect(later).not.toBe(c);
    expect([c?.aborted, later.aborted]).toEqual([false, false]);
  });
});
