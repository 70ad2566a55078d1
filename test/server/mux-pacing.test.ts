import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/framing/index.js';
import { IceTcpMux } from '../../src/index.js';
import { MUX_ROUTES_PER_TURN } from '../../src/server/mux-acceptor.js';
import { StunClass, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function bindingRequest(username: string): Buffer {
  const builder = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
  builder.username(username);
  return encodeFrame(builder.build({ fingerprint: true }));
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
    socket.on('error', reject);
    socket.on('connect', () => resolve(socket));
  });
}

describe('IceTcpMux admission pacing', () => {
  it('hands a burst of first requests to their agents a batch per loop turn, all of them', async () => {
    const mux = new IceTcpMux({ host: '127.0.0.1', port: 0, firstRequestTimeoutMs: 60_000 });
    cleanup.push(() => mux.close());
    const { port } = await mux.listen();
    const BURST = 2 * MUX_ROUTES_PER_TURN;
    // loop turns, counted by an immediate that re-arms itself
    let turn = 0;
    let counting = true;
    const count = () => {
      turn++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    cleanup.push(() => {
      counting = false;
    });
    const routedAt: Array<{ index: number; turn: number }> = [];
    for (let index = 0; index < BURST; index++) {
      const registration = mux.register(`u${index}`);
      registration.on('connection', (connection) => {
        routedAt.push({ index, turn });
        cleanup.push(() => connection.reset());
      });
      cleanup.push(() => registration.close());
    }
    const sockets = await Promise.all(Array.from({ length: BURST }, () => connected(port)));
    for (const s of sockets) cleanup.push(() => s.destroy());
    while (mux.pending < BURST) await new Promise((r) => setImmediate(r));
    // every first request is in its socket before the mux reads any: one poll phase sees them all
    for (const [index, s] of sockets.entries()) s.write(bindingRequest(`u${index}:peer`));
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // let the kernel deliver them all while this loop is busy
    }
    while (routedAt.length < BURST) await new Promise((r) => setTimeout(r, 5));
    const perTurn = new Map<number, number>();
    for (const r of routedAt) perTurn.set(r.turn, (perTurn.get(r.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(MUX_ROUTES_PER_TURN);
    expect(perTurn.size).toBeGreaterThanOrEqual(2);
    expect(mux.counters).toMatchObject({ accepted: BURST, routed: BURST, evicted: 0 });
  });
});
