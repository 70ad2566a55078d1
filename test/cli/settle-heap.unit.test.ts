import { describe, expect, it } from 'vitest';
import { settleHeap } from '../../src/cli/settle-heap.js';

describe('settleHeap', () => {
  it('collects once per process and leaves the process without a global gc', () => {
    const before = (globalThis as { gc?: unknown }).gc;
    const first = settleHeap();
    // a number: the collection ran (V8 accepted the flag in a context of its own)
    expect(typeof first).toBe('number');
    expect(first).toBeGreaterThan(0);
    expect(settleHeap()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBe(before);
  });
});
