import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireOrSkip } from '../support/require.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/heap-threshold.ts', import.meta.url));

const glibc =
  process.platform === 'linux' &&
  (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
    ?.glibcVersionRuntime !== undefined;
const ok = requireOrSkip('settleHeap and glibc thresholds', glibc ? [] : ['Linux with glibc']);

describe.skipIf(!ok)('settleHeap on glibc', () => {
  /** How much `[heap]` grew for four 8 MiB buffers in a fresh process (fixtures/heap-threshold.ts). */
  const growth = (how: 'plain' | 'settle') => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', FIXTURE, how], { encoding: 'utf8' });
    return (JSON.parse(out) as { grewBytes: number }).grewBytes;
  };

  // a receiving CLI faulted its read buffers' pages in again after every collection (docs/BENCHMARKS.md)
  it('raises the mmap threshold (and with it the trim threshold) above 8 MiB; a process without it maps them', {
    timeout: 30_000,
  }, () => {
    // without: each 8 MiB buffer is a mapping of its own, the heap does not grow by one buffer's size
    expect(growth('plain')).toBeLessThan(8 * 1024 * 1024);
    // with: they come from the heap (32 MiB, less whatever was already free at its top: 33.4 MB seen in CI)
    expect(growth('settle')).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });
});
