import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDetached } from '../support/run-detached.js';

// The short scale run of bench/scale.ts: 1,000 sessions on one mux port, server and client in their own
// processes. It asserts that every session connected; the times it prints are figures, not assertions.
const BENCH = fileURLToPath(new URL('../../bench/scale.ts', import.meta.url));
/** Generous: the run spawns three tsx processes and 2,000 agents; on a machine loaded by other suites it is slow. */
const LIMIT_MS = 170_000;

describe('scale: 1,000 sessions on one mux port', () => {
  it('all connect, each routed once, none failed', { timeout: LIMIT_MS + 10_000 }, async () => {
    // patient deadlines and 250 dials at a time: the assertion is that all connect, not how fast
    const args = ['--n', '1000', '--modes', 'mux', '--junk', '0', '--hold-ms', '0', '--json'];
    args.push('--concurrency', '250', '--timeout-ms', '20000');
    const { code, stdout, killed } = await runDetached(BENCH, args, LIMIT_MS);
    expect(killed).toBe(false);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      rows: Array<{ connected: number; failed: number; allConnectedMs: number; mux: { routed: number } }>;
    };
    const row = report.rows[0];
    console.log(`scale: 1000 sessions on one mux port, all connected in ${row?.allConnectedMs} ms`);
    expect(row).toMatchObject({ connected: 1000, failed: 0, mux: { routed: 1000 } });
  });
});
