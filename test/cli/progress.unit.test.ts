import { describe, expect, it, vi } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

describe('the progress line of long transfers', () => {
  it('on a terminal: bytes, rate and pair, at most twice a second, cleared at the end', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { stream, writes } = fakeStream(true);
      const p = progressLine(true, 'host so 10.0.1.2:5000 -> srflx so 203.0.113.2:5000', stream);
      vi.advanceTimersByTime(1000);
      p.update(50e6, 0);
      p.update(60e6, 0); // within 500 ms of the last one: not redrawn
      vi.advanceTimersByTime(1000);
      p.update(100e6, 1e6);
      p.stop();
      expect(writes).toHaveLength(3);
      expect(writes[0]).toMatch(
        /50\.0 MB sent, 0\.0 MB received, 50\.0 MB\/s, host so 10\.0\.1\.2:5000 -> srflx so/,
      );
      expect(writes[1]).toMatch(/100\.0 MB sent, 1\.0 MB received, 50\.5 MB\/s/);
      expect(writes[2]).toBe('\r\x1b[K');
    } finally {
      vi.useRealTimers();
    }
  });

  it('never with --json, nor when stderr is not a terminal', () => {
    for (const [enabled, tty] of [
      [false, true],
      [true, false],
    ] as const) {
      const { stream, writes } = fakeStream(tty);
      const p = progressLine(enabled, 'pair', stream);
      p.update(1e9, 1e9);
      p.stop();
      expect(writes).toEqual([]);
    }
  });
});
