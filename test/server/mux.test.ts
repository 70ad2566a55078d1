import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/framing/index.js';
import { IceAgent, type IceAgentOptions, IceTcpMux } from '../../src/index.js';
import { StunClass, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { roundTrip } from '../agent/helpers.js';
import { nextPathChange } from '../agent/restart-helpers.js';
import { muxPair } from '../support/mux-pair.js';

const WAIT = 20_000;

/** Waits for a condition the mux exposes only as a counter; bounded, so a hang fails here. */
async function until(cond: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function openMux(options: ConstructorParameters<typeof IceTcpMux>[0] = {}): Promise<IceTcpMux> {
  const mux = new IceTcpMux({ host: '127.0.0.1', port: 0, ...options });
  cleanup.push(() => mux.close());
  await mux.listen();
  return mux;
}

/** A server agent on the mux (controlled, passive only) wired to a client agent (controlling, active only). */
/** Deadlines a loaded 2-core machine does not miss: these tests are about routing, not speed. */
const PATIENT: IceAgentOptions = { checkTimeoutMs: 20_000, unauthenticatedTimeoutMs: 20_000 };

function session(mux: IceTcpMux) {
  const { srv, cli } = muxPair({ ...PATIENT, mux });
  cleanup.push(() => {
    srv.close();
    cli.close();
  });
  return { srv, cli };
}

/** Connects, reads until the socket closes, and says how many bytes came back before it closed. */
function rawConnection(port: number, send?: Buffer): Promise<{ closedAfterMs: number; received: number }> {
  return new Promise((resolve) => {
    const start = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
    let received = 0;
    socket.on('data', (d) => {
      received += d.length;
    });
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      if (send) socket.write(send);
    });
    socket.on('close', () => resolve({ closedAfterMs: performance.now() - start, received }));
  });
}

function bindingRequest(username: string): Buffer {
  const builder = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
  builder.username(username);
  return encodeFrame(builder.build({ fingerprint: true }));
}

describe('IceTcpMux', () => {
  it('two agents on one port: each connects over the mux and gets only its own connection', async () => {
    const mux = await openMux();
    const { port } = mux.address();
    const one = session(mux);
    const two = session(mux);
    const candidates: string[] = [];
    one.srv.on('candidate', (c) => c && candidates.push(`${c.address}:${c.port} ${c.tcpType}`));
    const [c1, s1, c2, s2] = await Promise.all([
      one.cli.connect(),
      one.srv.connect(),
      two.cli.connect(),
      two.srv.connect(),
    ]);
    expect(candidates).toEqual([`127.0.0.1:${port} passive`]);
    expect(s1.localAddress.port).toBe(port);
    expect(s2.localAddress.port).toBe(port);
    // the server side of each session is the client's own socket, seen from the other end
    expect(s1.remoteAddress).toEqual(c1.localAddress);
    expect(s2.remoteAddress).toEqual(c2.localAddress);
    await roundTrip(c1, s1);
    await roundTrip(c2, s2);
    expect(mux.counters.routed).toBe(2);
  });

  it('closes at once a connection whose first request names an unknown ufrag, or is not STUN', async () => {
    const mux = await openMux({ firstRequestTimeoutMs: 60_000 });
    const { port } = mux.address();
    // a registered ufrag that the requests below do not name
    const lone = new IceAgent({ mux, tcpTypes: ['passive'], addresses: ['127.0.0.1'] });
    cleanup.push(() => lone.close());
    await lone.gather();
    expect(mux.registered).toBe(1);
    const unknown = await rawConnection(port, bindingRequest('nobody:peer'));
    const junk = await rawConnection(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const huge = await rawConnection(port, Buffer.from([0xff, 0xff, 0, 1, 0, 0]));
    // closed by the mux long before its 60 s deadline, and nothing answered
    for (const r of [unknown, junk, huge]) expect(r.received).toBe(0);
    expect(mux.counters).toMatchObject({ accepted: 3, unknownUfrag: 1, badRequest: 2, routed: 0 });
  });

  it('closes a silent connection after firstRequestTimeoutMs', async () => {
    const mux = await openMux({ firstRequestTimeoutMs: 300 });
    const silent = await rawConnection(mux.address().port);
    expect(silent.closedAfterMs).toBeGreaterThanOrEqual(250);
    expect(mux.counters.evicted).toBe(1);
    expect(mux.pending).toBe(0);
  });

  it('a flood of idle connections at the caps does not keep a real session out', async () => {
    const mux = await openMux({ maxPending: 16, maxPendingPerSource: 8, firstRequestTimeoutMs: 60_000 });
    const { port } = mux.address();
    const idle = Array.from({ length: 40 }, () => rawConnection(port));
    await until(() => mux.counters.accepted === 40, '40 accepted');
    expect(mux.pending).toBeLessThanOrEqual(8);
    const { srv, cli } = session(mux);
    const [c, s] = await Promise.all([cli.connect(), srv.connect()]);
    await roundTrip(c, s);
    expect(mux.counters.evicted).toBeGreaterThanOrEqual(32);
    expect(mux.counters.routed).toBe(1);
    await mux.close();
    await Promise.all(idle); // every idle one was closed by the mux: by eviction, or by close()
  });

  it('routes the new ufrag after an ICE restart of the agent on the mux', async () => {
    const mux = await openMux();
    const { srv, cli } = session(mux);
    const [c, s] = await Promise.all([cli.connect(), srv.connect()]);
    const oldUfrag = srv.localParameters.ufrag;
    const moved = Promise.all([nextPathChange(c, WAIT), nextPathChange(s, WAIT)]);
    srv.restart();
    await moved;
    expect(srv.localParameters.ufrag).not.toBe(oldUfrag);
    expect(s.localAddress.port).toBe(mux.address().port);
    expect(mux.counters.routed).toBe(2);
    await roundTrip(c, s);
  });

  it('an agent that closes releases its ufrag; close() resets held connections and refuses new ones', async () => {
    const mux = await openMux({ firstRequestTimeoutMs: 60_000 });
    const agents = Array.from({ length: 5 }, () => {
      const a = new IceAgent({ mux, tcpTypes: ['passive'], addresses: ['127.0.0.1'] });
      cleanup.push(() => a.close());
      return a;
    });
    await Promise.all(agents.map((a) => a.gather()));
    expect(mux.registered).toBe(5);
    const ufrag = agents[0]?.localParameters.ufrag as string;
    for (const a of agents) a.close();
    expect(mux.registered).toBe(0);
    const late = await rawConnection(mux.address().port, bindingRequest(`${ufrag}:peer`));
    expect(late.received).toBe(0);
    expect(mux.counters.unknownUfrag).toBe(1);
    const held = rawConnection(mux.address().port);
    await until(() => mux.pending === 1, 'held');
    await mux.close();
    await held;
    expect(mux.pending).toBe(0);
    expect(() => mux.register('abcd')).toThrow(/closed/);
  });

  it('advertises publicAddress as a server-reflexive passive candidate beside the host one', async () => {
    const mux = await openMux({ publicAddress: { address: '203.0.113.7', port: 443 } });
    const agent = new IceAgent({ mux, tcpTypes: ['passive'], addresses: ['127.0.0.1'] });
    cleanup.push(() => agent.close());
    const seen: string[] = [];
    agent.on(
      'candidate',
      (c) => c && seen.push(`${c.type} ${c.address}:${c.port} ${c.relatedAddress}:${c.relatedPort}`),
    );
    await agent.gather();
    const { port } = mux.address();
    expect(seen).toEqual([
      `host 127.0.0.1:${port} undefined:undefined`,
      `srflx 203.0.113.7:443 127.0.0.1:${port}`,
    ]);
  });

  it('a mux on the wildcard address is advertised at the agent address and connects', async () => {
    const mux = await openMux({ host: '0.0.0.0' });
    const { srv, cli } = session(mux);
    const [c, s] = await Promise.all([cli.connect(), srv.connect()]);
    expect(s.localCandidate).toMatchObject({
      address: '127.0.0.1',
      port: mux.address().port,
      tcpType: 'passive',
    });
    await roundTrip(c, s);
  });

  it('rejects unusable options with InvalidArgumentError', async () => {
    expect(() => new IceTcpMux({ host: 'localhost' })).toThrow(/host/);
    expect(() => new IceTcpMux({ maxPending: 0 })).toThrow(/maxPending/);
    expect(() => new IceTcpMux({ firstRequestTimeoutMs: -1 })).toThrow(/firstRequestTimeoutMs/);
    const mux = new IceTcpMux({ host: '127.0.0.1' });
    expect(() => mux.address()).toThrow(/not listening/);
    expect(() => new IceAgent({ mux, tcpTypes: ['active'] })).toThrow(/passive/);
    expect(() => new IceAgent({ mux: {} as IceTcpMux })).toThrow(/IceTcpMux/);
    await mux.close();
  });
});
