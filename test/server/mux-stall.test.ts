import { afterEach, describe, expect, it } from 'vitest';
import { type IceAgentOptions, IceTcpMux } from '../../src/index.js';
import { muxPair } from '../support/mux-pair.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Blocks the event loop, as a server busy with a burst of other sessions does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning: nothing else of this process runs meanwhile
  }
}

/**
 * Stalls the loop for `stallMs` in each of the next `turns` loop turns (from the check phase, so every timer due
 * meanwhile runs before the next poll phase reads the sockets). Resolves when done.
 */
function stallTurns(turns: number, stallMs: number): Promise<void> {
  return new Promise((resolve) => {
    const step = (left: number) => {
      if (left === 0) {
        resolve();
        return;
      }
      busyFor(stallMs);
      setImmediate(() => step(left - 1));
    };
    setImmediate(() => step(turns));
  });
}

/**
 * `count` sessions of a passive server agent (`server` options: on a mux or a port of its own) and an active
 * client, each pair signalled in memory and connecting: one outcome per agent, `'connected'` or its error code.
 */
function connectSessions(count: number, server: IceAgentOptions): Array<Promise<string>> {
  return Array.from({ length: count }, () => {
    const { srv, cli } = muxPair(server);
    srv.on('error', () => undefined);
    cli.on('error', () => undefined);
    cleanup.push(() => {
      srv.close();
      cli.close();
    });
    return [srv, cli];
  }).flatMap((agents) =>
    agents.map((agent) =>
      agent.connect().then(
        () => 'connected',
        (error: { code?: string }) => error.code ?? 'error',
      ),
    ),
  );
}

describe('a stalled event loop (a server busy with a burst)', () => {
  it('does not fail the sessions in flight: check and first-request deadlines count loop time, not stalls', async () => {
    const CHECK_TIMEOUT = 1000;
    const mux = new IceTcpMux({ host: '127.0.0.1', port: 0, firstRequestTimeoutMs: CHECK_TIMEOUT });
    cleanup.push(() => mux.close());
    await mux.listen();
    // only the deadlines this test is about are short; the dial's own timer is the transport's
    const deadlines: IceAgentOptions = {
      addresses: ['127.0.0.1'],
      checkTimeoutMs: CHECK_TIMEOUT,
      unauthenticatedTimeoutMs: 20_000,
      dialTimeoutMs: 20_000,
      connectTimeoutMs: 60_000,
    };
    const outcomes = connectSessions(3, { ...deadlines, mux });
    // every check sent before a stall is answered in time, but the answer is read only after the stall, which
    // is longer than the check timeout: a deadline judged on the wall clock expires first
    const stalls = stallTurns(5, CHECK_TIMEOUT * 1.3);
    const results = await Promise.all(outcomes);
    await stalls;
    expect(results).toEqual(Array(6).fill('connected'));
    expect(mux.counters.evicted).toBe(0);
  }, 60_000);

  it('does not reset inbound connections unauthenticated: their deadline counts loop time too (a port each)', async () => {
    const UNAUTHENTICATED_TIMEOUT = 1000;
    // a port of its own: the accept and the first read are separate poll phases, and a stall between them is
    // where a wall-clock deadline fires before the check already in the socket is read
    const deadlines: IceAgentOptions = {
      addresses: ['127.0.0.1'],
      checkTimeoutMs: 20_000,
      unauthenticatedTimeoutMs: UNAUTHENTICATED_TIMEOUT,
      dialTimeoutMs: 20_000,
      connectTimeoutMs: 60_000,
    };
    const outcomes = connectSessions(3, deadlines);
    const stalls = stallTurns(8, UNAUTHENTICATED_TIMEOUT * 1.3);
    const results = await Promise.all(outcomes);
    await stalls;
    expect(results).toEqual(Array(6).fill('connected'));
  }, 60_000);
});
