import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type IceAgent, IceTcpMux } from '../../src/index.js';
import { connectAndPing, muxPair } from '../support/mux-pair.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Deadlines a loaded 2-core machine cannot miss: this test is about what is left behind, not speed. */
const PATIENT = { checkTimeoutMs: 30_000, unauthenticatedTimeoutMs: 30_000 };
const ROUNDS = 6;
const PER_ROUND = 25;

/** Handles the process holds (sockets, servers, timers): the count must come back after sessions went. */
function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}

async function settle(): Promise<void> {
  // closes and resets finish on later turns of the loop
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
  gc();
}

/** One round of sessions that connect over the mux, move a packet and close; returns weak refs to the agents. */
async function round(mux: IceTcpMux): Promise<WeakRef<IceAgent>[]> {
  const refs: WeakRef<IceAgent>[] = [];
  await Promise.all(
    Array.from({ length: PER_ROUND }, async () => {
      const pair = muxPair({ ...PATIENT, mux });
      const { srv, cli } = pair;
      refs.push(new WeakRef(srv), new WeakRef(cli));
      try {
        await connectAndPing(pair);
      } finally {
        cli.close();
        srv.close();
      }
    }),
  );
  return refs;
}

describe('IceTcpMux: nothing leaks when sessions come and go', () => {
  it(`${ROUNDS * PER_ROUND} sessions: no ufrag, held connection, handle or agent left behind`, {
    timeout: 120_000,
  }, async () => {
    const mux = new IceTcpMux({ host: '127.0.0.1', port: 0, firstRequestTimeoutMs: 30_000 });
    await mux.listen();
    await settle();
    const baseline = activeHandles();
    const refs: WeakRef<IceAgent>[] = [];
    for (let i = 0; i < ROUNDS; i++) refs.push(...(await round(mux)));
    await settle();
    expect(mux.counters.routed).toBe(ROUNDS * PER_ROUND);
    expect(mux.registered).toBe(0);
    expect(mux.pending).toBe(0);
    expect(activeHandles()).toBeLessThanOrEqual(baseline);
    // every agent was collected: nothing (the mux's maps, a timer, a listener) still points at one
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    await mux.close();
  });
});
