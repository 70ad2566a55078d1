import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDetached } from '../support/run-detached.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/mux-cluster.ts', import.meta.url));
/** Generous: three processes start tsx (~2 s of CPU each), more on a loaded machine. */
const LIMIT_MS = 50_000;

describe('IceTcpMux under node:cluster', () => {
  it('the primary routes each session to the worker that owns its ufrag; sessions spread over 2 workers', async () => {
    const { code, stdout, killed } = await runDetached(FIXTURE, ['10'], LIMIT_MS);
    expect(killed).toBe(false);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      sessions: number;
      byPid: Record<string, number>;
      workers: number[];
      counters: { routed: number; unknownUfrag: number };
    };
    expect(report.sessions).toBe(10);
    // every session was answered by a worker, 5 by each: the one that created its agent
    expect(Object.keys(report.byPid).map(Number).sort()).toEqual([...report.workers].sort());
    expect(Object.values(report.byPid)).toEqual([5, 5]);
    expect(report.counters).toMatchObject({ routed: 10, unknownUfrag: 0 });
  });
});
