import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceAgentOptions, type IceTcpError, IceTcpMux } from '../../src/index.js';
import { nextState, recordStates } from '../support/consent-watch.js';
import { agentPair, roundTrip } from './helpers.js';

/** ice-lite (RFC 8445 §2.5) against a full ice-tcp agent on loopback, both offer directions. */

const LOCAL = { addresses: ['127.0.0.1'] } satisfies IceAgentOptions;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Two agents that exchange SDP-line descriptions, `first` offering (its description read first). */
async function describedPair(first: IceAgent, second: IceAgent): Promise<void> {
  cleanups.push(
    () => first.close(),
    () => second.close(),
  );
  await Promise.all([first.gather(), second.gather()]);
  const offer = first.localDescription();
  second.setRemoteDescription(offer);
  first.setRemoteDescription(second.localDescription());
}

describe('ice-lite agent with a full ice-tcp agent', () => {
  it('lite offers: the full agent, configured controlled, takes the controlling role, nominates, connects', async () => {
    const lite = new IceAgent({ ...LOCAL, lite: true });
    const full = new IceAgent({ ...LOCAL, role: 'controlled' });
    expect(lite.localParameters.lite).toBe(true);
    expect(lite.localDescription()).toContain('a=ice-lite');
    await describedPair(lite, full);
    const [liteConn, fullConn] = await Promise.all([lite.connect(), full.connect()]);
    expect(full.role).toBe('controlling');
    expect(lite.role).toBe('controlled');
    await roundTrip(liteConn, fullConn);
    const liteStats = lite.getStats();
    // the lite agent sent no check at all: every pair it knows was checked by the peer
    expect(liteStats.pairs.reduce((n, p) => n + p.checksSent, 0)).toBe(0);
    expect(liteStats.consentChecksSent).toBe(0);
    // its only candidates are passive host ones
    expect(liteConn.localCandidate).toMatchObject({ type: 'host', tcpType: 'passive' });
    expect(
      lite
        .localDescription()
        .filter((l) => l.startsWith('a=candidate:'))
        .every((l) => l.includes('typ host tcptype passive')),
    ).toBe(true);
  }, 20_000);

  it('full offers through a signaller (JSON parameters with lite): controlling from the start, the lite side selects the nominated pair', async () => {
    // configured controlled: only the lite flag of the parameters message can make it control before any check
    const {
      alice: full,
      bob: lite,
      close,
    } = agentPair({ ...LOCAL, role: 'controlled' }, { ...LOCAL, lite: true });
    cleanups.push(close);
    let roleWhenChecking: string | undefined;
    full.on('state', (state) => {
      if (state === 'checking') roleWhenChecking = full.role;
    });
    const [fullConn, liteConn] = await Promise.all([full.connect(), lite.connect()]);
    expect(roleWhenChecking).toBe('controlling');
    await roundTrip(fullConn, liteConn);
    const selected = lite.getStats().pairs.find((p) => p.selected);
    expect(selected).toMatchObject({ nominated: true, checksSent: 0 });
    expect(selected?.checksReceived).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it("lite consent: the full peer's checks keep it over several timeouts; a peer that stops checking expires it", async () => {
    // the full peer checks every 100 ms: the lite agent's 600 ms timeout is met many times over
    const lite = new IceAgent({ ...LOCAL, lite: true, consentIntervalMs: 100, consentTimeoutMs: 600 });
    const full = new IceAgent({ ...LOCAL, consentIntervalMs: 100, consentTimeoutMs: 5000 });
    await describedPair(full, lite);
    await Promise.all([lite.connect(), full.connect()]);
    const states = recordStates(lite);
    await new Promise((r) => setTimeout(r, 2000));
    expect(states).toEqual([]);
    expect(lite.state).toBe('completed');

    // a peer that sends no consent check for longer than the lite agent's timeout
    const lite2 = new IceAgent({ ...LOCAL, lite: true, consentIntervalMs: 100, consentTimeoutMs: 600 });
    const silent = new IceAgent({ ...LOCAL, consentIntervalMs: 60_000, consentTimeoutMs: 120_000 });
    await describedPair(silent, lite2);
    await Promise.all([lite2.connect(), silent.connect()]);
    const errors: IceTcpError[] = [];
    lite2.on('error', (e) => errors.push(e));
    const failed = await nextState(lite2, 'failed', 10_000);
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'expired' });
    expect(errors.map((e) => e.code)).toContain('ERR_CONSENT_LOST');
  }, 30_000);

  it('a lite agent notices a reset of its selected connection at once', async () => {
    const lite = new IceAgent({ ...LOCAL, lite: true });
    const full = new IceAgent({ ...LOCAL });
    await describedPair(full, lite);
    const [, fullConn] = await Promise.all([lite.connect(), full.connect()]);
    const disconnected = nextState(lite, 'disconnected', 10_000);
    fullConn.reset();
    expect((await disconnected).reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'reset' });
  }, 20_000);

  it('a full peer that was not told (no a=ice-lite) and claims controlled gets 487 and takes the controlling role', async () => {
    const lite = new IceAgent({ ...LOCAL, lite: true });
    const full = new IceAgent({ ...LOCAL, role: 'controlled' });
    cleanups.push(
      () => lite.close(),
      () => full.close(),
    );
    await Promise.all([lite.gather(), full.gather()]);
    // the lite flag lost on the way: the full agent believes it faces a full, controlling peer
    full.setRemoteDescription(lite.localDescription().filter((l) => l !== 'a=ice-lite'));
    lite.setRemoteDescription(full.localDescription());
    const [liteConn, fullConn] = await Promise.all([lite.connect(), full.connect()]);
    expect(full.role).toBe('controlling');
    expect(lite.role).toBe('controlled');
    await roundTrip(liteConn, fullConn);
  }, 20_000);

  it('lite agents on one mux port: each full peer reaches its own lite agent through the shared port', async () => {
    const mux = new IceTcpMux({ host: '127.0.0.1', port: 0 });
    await mux.listen();
    cleanups.push(() => void mux.close());
    const { port } = mux.address();
    const sessions = [0, 1, 2].map(() => {
      const { alice: full, bob: lite, close } = agentPair({ ...LOCAL }, { ...LOCAL, lite: true, mux });
      cleanups.push(close);
      return { full, lite };
    });
    const conns = await Promise.all(
      sessions.map(async (s) => Promise.all([s.full.connect(), s.lite.connect()])),
    );
    for (const [fullConn, liteConn] of conns) {
      expect(liteConn.localCandidate).toMatchObject({ tcpType: 'passive', port });
      await roundTrip(fullConn, liteConn);
    }
  }, 30_000);

  it('two lite agents are refused at once with ERR_ICE_FAILED on both sides (RFC 8445 §6.1.1 with RFC 6544)', async () => {
    const a = new IceAgent({ ...LOCAL, lite: true });
    const b = new IceAgent({ ...LOCAL, lite: true });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await Promise.all([a.gather(), b.gather()]);
    const connecting = a.connect();
    expect(() => a.setRemoteDescription(b.localDescription())).toThrow(
      expect.objectContaining({ code: 'ERR_ICE_FAILED', message: expect.stringMatching(/ice-lite/) }),
    );
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_ICE_FAILED' });
    expect(a.state).toBe('failed');
    expect(() => b.setRemoteParameters(a.localParameters)).toThrow(
      expect.objectContaining({ code: 'ERR_ICE_FAILED' }),
    );
  }, 20_000);
});
