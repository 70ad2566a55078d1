import { afterEach, describe, expect, it, vi } from 'vitest';
import { PREDICTION_HOLD_LIMIT_MS, ProbeHold } from '../../src/gather/probe-hold.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('holding the checks while sequential prediction measures the NAT', () => {
  it('holds once and releases once, when the probes are done', () => {
    const calls: boolean[] = [];
    const hold = new ProbeHold((held) => calls.push(held));
    hold.begin();
    hold.begin();
    expect(calls).toEqual([true]);
    hold.end();
    hold.end();
    expect(calls).toEqual([true, false]);
  });

  it('releases by itself at the limit, whatever the probes still do', () => {
    vi.useFakeTimers();
    const calls: boolean[] = [];
    const hold = new ProbeHold((held) => calls.push(held));
    hold.begin();
    vi.advanceTimersByTime(PREDICTION_HOLD_LIMIT_MS - 1);
    expect(calls).toEqual([true]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([true, false]);
    // the gatherer's own end afterwards changes nothing
    hold.end();
    expect(calls).toEqual([true, false]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never holds when prediction did not start, nor after it ended', () => {
    const calls: boolean[] = [];
    const hold = new ProbeHold((held) => calls.push(held));
    hold.end();
    hold.begin();
    expect(calls).toEqual([]);
    expect(() => new ProbeHold(undefined).begin()).not.toThrow();
  });
});
