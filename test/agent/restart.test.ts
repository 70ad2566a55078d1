import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IceAgent, IceConnection, IceState, IceTcpError, SelectedPair } from '../../src/index.js';
import { IceAgent as Agent, formatCandidate, parseCandidate } from '../../src/index.js';
import { attachSignaller } from '../../src/signalling/attach.js';
import { createInMemorySignallerPair } from '../../src/signalling/in-memory.js';
import { agentPair, roundTrip } from './helpers.js';
import { GatedSignaller, nextPathChange, nextState, SequencedFlow } from './restart-helpers.js';

const fastConsent = { consentIntervalMs: 100, consentTimeoutMs: 300 };

/** ICE restart (RFC 8445 §9) between two agents on loopback, signalled through attachSignaller. */

/** Generous: a loaded 2-core machine may stall; exact figures come from bench/restart.ts. */
const WAIT = 15_000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function connectedPair(extra = {}) {
  const p = agentPair(
    { role: 'controlling', addresses: ['127.0.0.1'], ...extra },
    { role: 'controlled', addresses: ['127.0.0.1'], ...extra },
  );
  cleanups.push(() => p.close());
  return p;
}

function recordStates(agent: IceAgent): IceState[] {
  const seen: IceState[] = [];
  agent.on('state', (s) => seen.push(s));
  return seen;
}

function recordSelected(agent: IceAgent): SelectedPair[] {
  const seen: SelectedPair[] = [];
  agent.on('selected-pair', (p) => seen.push(p));
  return seen;
}

/** Resets the TCP connection under an IceConnection, as a peer's RST or a broken network would. */
function breakPath(conn: IceConnection): void {
  (conn as unknown as { framed: { socket: net.Socket } }).framed.socket.resetAndDestroy();
}

describe.each(['controlling', 'controlled'] as const)('restart() on the %s side, old path alive', (side) => {
  it('packets flow before, during and after, never duplicated or reordered; same IceConnection moves', async () => {
    const p = connectedPair();
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const restarter = side === 'controlling' ? p.alice : p.bob;
    const oldParams = restarter.localParameters;
    const oldLocal = [ca.localAddress.port, cb.localAddress.port];
    const states = [recordStates(p.alice), recordStates(p.bob)];
    const selected = [recordSelected(p.alice), recordSelected(p.bob)];
    const aToB = new SequencedFlow(ca, cb, 5);
    const bToA = new SequencedFlow(cb, ca, 5);
    aToB.start();
    bToA.start();
    await Promise.all([aToB.waitFor(20, WAIT), bToA.waitFor(20, WAIT)]);

    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    const newParams = new Promise((resolve) => restarter.once('parameters', resolve));
    restarter.restart();
    expect(await newParams).not.toEqual(oldParams);
    const [pa, pb] = await moved;
    await Promise.all([aToB.waitFor(20, WAIT), bToA.waitFor(20, WAIT)]);
    const sent = [aToB.stop(), bToA.stop()];
    await new Promise((r) => setTimeout(r, 200));

    // the same objects, now on the new pair's connection
    expect(await p.alice.connect()).toBe(ca);
    expect(await p.bob.connect()).toBe(cb);
    expect([ca.localAddress.port, cb.localAddress.port]).not.toEqual(oldLocal);
    expect(pa).toEqual({ local: ca.localCandidate, remote: ca.remoteCandidate });
    expect(pb).toEqual({ local: cb.localCandidate, remote: cb.remoteCandidate });
    expect(selected[0]).toEqual([pa]);
    expect(selected[1]).toEqual([pb]);
    expect(restarter.localParameters).not.toEqual(oldParams);
    // the old path stayed up: no state change at all on either side
    expect(states).toEqual([[], []]);
    for (const [flow, total] of [
      [aToB, sent[0]],
      [bToA, sent[1]],
    ] as const) {
      expect(flow.disorder()).toBe(0);
      expect(flow.sendErrors).toBe(0);
      // every packet arrives: the old path stays readable until the peer has switched too
      expect(flow.received.length).toBe(total);
    }
    await roundTrip(ca, cb);
    expect(p.alice.role).toBe('controlling');
    expect(p.bob.role).toBe('controlled');
  });
});

describe('restart after the selected connection was lost', () => {
  it('disconnected -> checking -> connected -> completed, and packets flow again on the same objects', async () => {
    const p = connectedPair({ consentIntervalMs: 200, consentTimeoutMs: 20_000 });
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    await roundTrip(ca, cb);
    const states = recordStates(p.alice);
    const lostA = nextState(p.alice, 'disconnected', WAIT);
    const lostB = nextState(p.bob, 'disconnected', WAIT);
    const errors: IceTcpError[] = [];
    ca.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((r) => ca.once('close', () => r()));
    breakPath(cb);
    await Promise.all([lostA, lostB, closed]);
    expect(ca.closed).toBe(true);

    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    const completed = Promise.all([
      nextState(p.alice, 'completed', WAIT),
      nextState(p.bob, 'completed', WAIT),
    ]);
    p.alice.restart();
    await Promise.all([moved, completed]);
    expect(states).toEqual(['disconnected', 'checking', 'connected', 'completed']);
    expect(ca.closed).toBe(false);
    await roundTrip(ca, cb);
    expect(p.alice.state).toBe('completed');
    expect(p.bob.state).toBe('completed');
  });

  it('consent expiring during the restart keeps disconnected; the restart still recovers', async () => {
    const alice = new Agent({ role: 'controlling', addresses: ['127.0.0.1'], ...fastConsent });
    const bob = new Agent({ role: 'controlled', addresses: ['127.0.0.1'], ...fastConsent });
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    );
    const [sa, sb] = createInMemorySignallerPair();
    const gate = new GatedSignaller(sa);
    attachSignaller(alice, gate);
    attachSignaller(bob, sb);
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const states = recordStates(alice);
    const lost = Promise.all([nextState(alice, 'disconnected', WAIT), nextState(bob, 'disconnected', WAIT)]);
    breakPath(cb);
    await lost;
    // bob's answer to the restart waits in the signalling channel for longer than the consent timeout
    gate.hold();
    alice.restart();
    await new Promise((r) => setTimeout(r, 3 * fastConsent.consentTimeoutMs));
    expect(alice.state).toBe('disconnected');
    // bob got alice's new parameters: its checks may already have succeeded, nothing nominated yet
    expect(['checking', 'connected']).toContain(bob.state);
    const completed = Promise.all([nextState(alice, 'completed', WAIT), nextState(bob, 'completed', WAIT)]);
    gate.release();
    await completed;
    expect(states).toEqual(['disconnected', 'checking', 'connected', 'completed']);
    await roundTrip(ca, cb);
  });
});

describe('remote candidates belong to a generation', () => {
  it("the peer's candidates that arrive after our restart and before its new parameters are the old generation's", async () => {
    const alice = new Agent({ role: 'controlling', addresses: ['127.0.0.1'] });
    const bob = new Agent({ role: 'controlled', addresses: ['127.0.0.1'] });
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    );
    const oldLines: string[] = [];
    bob.on('candidate', (c) => {
      if (c) oldLines.push(formatCandidate(c));
    });
    const [sa, sb] = createInMemorySignallerPair();
    const gate = new GatedSignaller(sa);
    attachSignaller(alice, gate);
    attachSignaller(bob, sb);
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const oldPorts = new Set(oldLines.map((l) => parseCandidate(l).port));
    gate.hold();
    alice.restart();
    // late trickle of the old generation: neither paired with the new one nor taken as its end
    for (const line of oldLines) alice.addRemoteCandidate(line);
    alice.addRemoteCandidate(null);
    const moved = nextPathChange(ca, WAIT);
    gate.release();
    await moved;
    const remotePorts = alice.getStats().pairs.map((pair) => pair.remote.port);
    expect(remotePorts.length).toBeGreaterThan(0);
    expect(remotePorts.filter((port) => oldPorts.has(port) && port !== 9)).toEqual([]);
    await roundTrip(ca, cb);
  });
});

describe('restart with stream(), the resume protocol not negotiated', () => {
  it.each([
    ['the peer does not advertise it', { streamResume: false }, {}],
    ['we turned it off', {}, { streamResume: false }],
  ])(
    '%s: the stream ends with ERR_PATH_CHANGED at the switch instead of losing bytes silently',
    async (_, a, b) => {
      const p = agentPair(
        { role: 'controlling', addresses: ['127.0.0.1'], ...a },
        { role: 'controlled', addresses: ['127.0.0.1'], ...b },
      );
      cleanups.push(() => p.close());
      const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
      const sa = ca.stream();
      const sb = cb.stream();
      const bobFailed = new Promise<IceTcpError>((resolve) =>
        sb.once('error', (e) => resolve(e as IceTcpError)),
      );
      const failed = new Promise<IceTcpError>((resolve) =>
        sa.once('error', (e) => resolve(e as IceTcpError)),
      );
      p.alice.restart();
      expect((await failed).code).toBe('ERR_PATH_CHANGED');
      expect((await bobFailed).code).toBe('ERR_PATH_CHANGED');
      expect(p.alice.state).toBe('completed');
    },
  );
});

describe('restart() misuse', () => {
  it('throws before ICE started and after close', async () => {
    const p = connectedPair();
    expect(() => p.alice.restart()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    await Promise.all([p.alice.connect(), p.bob.connect()]);
    p.alice.close();
    expect(() => p.alice.restart()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});

describe('autoRestart', () => {
  it('restarts by itself on disconnected and the connection comes back on the same objects', async () => {
    const p = connectedPair({ autoRestart: true, consentIntervalMs: 200, consentTimeoutMs: 20_000 });
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const states = recordStates(p.alice);
    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    breakPath(cb);
    await moved;
    if (p.alice.state !== 'completed') await nextState(p.alice, 'completed', WAIT);
    expect(states[0]).toBe('disconnected');
    expect(states.at(-1)).toBe('completed');
    expect(states).not.toContain('failed');
    await roundTrip(ca, cb);
  });

  it('is off by default, and must be a boolean', () => {
    expect(() => new Agent({ autoRestart: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('a restart that gets no answer', () => {
  it('fails with an error event after connectTimeoutMs while the old path carries on; a later restart works', async () => {
    const alice = new Agent({ role: 'controlling', addresses: ['127.0.0.1'], connectTimeoutMs: 1000 });
    const bob = new Agent({ role: 'controlled', addresses: ['127.0.0.1'], connectTimeoutMs: 1000 });
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    );
    const [sa, sb] = createInMemorySignallerPair();
    const gate = new GatedSignaller(sb);
    attachSignaller(alice, sa);
    attachSignaller(bob, gate);
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const states = recordStates(alice);
    const failed = new Promise<IceTcpError>((resolve) => alice.once('error', resolve));
    gate.hold();
    alice.restart();
    expect((await failed).code).toBe('ERR_ICE_TIMEOUT');
    expect(alice.state).toBe('completed');
    expect(states).toEqual([]);
    await roundTrip(ca, cb);
    // bob then reads alice's stale parameters and restarts; a fresh restart of alice's meets it
    gate.release();
    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    alice.restart();
    await moved;
    await roundTrip(ca, cb);
  });
});

describe('restarts that cross', () => {
  it('both sides restart at once, or one side twice in a row: one switch, packets flow', async () => {
    const p = connectedPair();
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const errors: IceTcpError[] = [];
    p.alice.on('error', (e) => errors.push(e));
    p.bob.on('error', (e) => errors.push(e));
    let moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    p.alice.restart();
    p.bob.restart();
    await moved;
    await roundTrip(ca, cb);
    moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    p.bob.restart();
    p.bob.restart();
    await moved;
    await roundTrip(ca, cb);
    expect([p.alice.state, p.bob.state]).toEqual(['completed', 'completed']);
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
