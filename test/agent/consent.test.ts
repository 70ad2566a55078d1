import { afterEach, describe, expect, it } from 'vitest';
import type { IceTcpError } from '../../src/index.js';
import { nextState, recordStates } from '../support/consent-watch.js';
import { fakePeer } from './consent-fake-peer.js';
import { proxiedPair } from './consent-proxy.js';
import { agentPair, roundTrip } from './helpers.js';

/** Consent freshness (RFC 7675) and failure detection of the selected pair, between real agents on loopback. */

const INTERVAL = 200;
const TIMEOUT = 1500;
/** Generous bounds: a loaded 2-core machine may stall the event loop for a while; exact figures: bench/consent.ts. */
const SLACK = 3000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const consent = { consentIntervalMs: INTERVAL, consentTimeoutMs: TIMEOUT };

describe('consent freshness between two agents', () => {
  it('stays completed over 3x the timeout while data flows both ways, every check answered', async () => {
    const p = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'], ...consent },
      { role: 'controlled', addresses: ['127.0.0.1'], ...consent },
    );
    cleanups.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const states = [...[p.alice, p.bob].map(recordStates)];
    const end = performance.now() + 3 * TIMEOUT;
    while (performance.now() < end) {
      await roundTrip(ca, cb);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const agent of [p.alice, p.bob]) {
      const stats = agent.getStats();
      expect(agent.state).toBe('completed');
      // ~22 checks in 4.5 s at 200 ms ± 20 %; a stalled loop sends fewer, never none
      expect(stats.consentChecksSent).toBeGreaterThanOrEqual(5);
      expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(stats.consentChecksSent - 1);
    }
    // a stall of the loop longer than an interval may read as a moment of silence; never as lost consent
    const changes = states.flat().map((s) => s.state);
    expect(changes).not.toContain('failed');
    expect(changes.filter((s) => s === 'disconnected').length).toBeLessThanOrEqual(2);
  });
});

describe('a peer that stops answering (frozen: its bytes no longer move)', () => {
  it('goes disconnected within about an interval, then failed with ERR_CONSENT_LOST at the timeout', async () => {
    const p = await proxiedPair(consent);
    cleanups.push(() => p.close());
    await roundTrip(p.ca, p.cb);
    const states = recordStates(p.alice);
    const agentErrors: IceTcpError[] = [];
    p.alice.on('error', (e) => agentErrors.push(e));
    const connErrors: IceTcpError[] = [];
    p.ca.on('error', (e) => connErrors.push(e));
    const closed = new Promise<void>((resolve) => p.ca.once('close', resolve));
    const frozenAt = performance.now();
    p.proxy.freeze();
    const disconnected = await nextState(p.alice, 'disconnected', TIMEOUT + SLACK);
    const failed = await nextState(p.alice, 'failed', TIMEOUT + SLACK);
    console.log(
      `frozen peer: disconnected after ${Math.round(disconnected.at - frozenAt)} ms, failed after ${Math.round(failed.at - frozenAt)} ms (interval ${INTERVAL}, timeout ${TIMEOUT})`,
    );
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'unanswered' });
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'expired' });
    // consent cannot expire before the timeout has passed since the last answer, which came before the freeze
    expect(failed.at - frozenAt).toBeLessThan(TIMEOUT + SLACK);
    expect(disconnected.at).toBeLessThan(failed.at);
    // (a stall of a loaded machine's event loop may add a disconnected/completed blip before the freeze)
    expect(states.map((s) => s.state).slice(-2)).toEqual(['disconnected', 'failed']);
    expect(() => p.ca.send(Buffer.from('more'))).toThrow(
      expect.objectContaining({ code: 'ERR_CONSENT_LOST' }),
    );
    await closed;
    expect(connErrors.map((e) => e.code)).toEqual(['ERR_CONSENT_LOST']);
    expect(agentErrors.map((e) => e.code)).toContain('ERR_CONSENT_LOST');
  });

  it('in stream mode the stream is destroyed with ERR_CONSENT_LOST', async () => {
    const p = await proxiedPair(consent);
    cleanups.push(() => p.close());
    const stream = p.ca.stream();
    const failedStream = new Promise<Error>((resolve) => stream.once('error', resolve));
    p.proxy.freeze();
    await nextState(p.alice, 'failed', TIMEOUT + SLACK);
    await expect(failedStream).resolves.toMatchObject({ code: 'ERR_CONSENT_LOST' });
  });

  it('a peer that comes back before the timeout: disconnected, then completed again', async () => {
    const p = await proxiedPair({ consentIntervalMs: INTERVAL, consentTimeoutMs: 10_000 });
    cleanups.push(() => p.close());
    const states = recordStates(p.alice);
    p.proxy.freeze();
    await nextState(p.alice, 'disconnected', SLACK);
    p.proxy.thaw();
    await nextState(p.alice, 'completed', SLACK);
    expect(states.map((s) => s.state).slice(0, 2)).toEqual(['disconnected', 'completed']);
    await roundTrip(p.ca, p.cb);
  });
});

describe('the peer revokes consent', () => {
  it('an authenticated error response to a consent check fails the pair at once (RFC 7675 §5.1)', async () => {
    const peer = await fakePeer({ consentIntervalMs: INTERVAL, consentTimeoutMs: 20_000 });
    cleanups.push(() => peer.close());
    peer.answer = { error: 403, signed: true };
    const failed = await nextState(peer.agent, 'failed', SLACK);
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'revoked', stunCode: 403 });
    expect(peer.requests).toHaveLength(1);
  });

  it('an unauthenticated error response is ignored: consent expires on its own clock', async () => {
    const peer = await fakePeer({ consentIntervalMs: INTERVAL, consentTimeoutMs: TIMEOUT });
    cleanups.push(() => peer.close());
    peer.answer = { error: 401, signed: false };
    const failed = await nextState(peer.agent, 'failed', TIMEOUT + SLACK);
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'expired' });
    expect(peer.requests.length).toBeGreaterThan(1);
  });

  it('consent checks are ICE checks: USERNAME, PRIORITY, role, MESSAGE-INTEGRITY, FINGERPRINT, a new id each', async () => {
    const peer = await fakePeer({ consentIntervalMs: INTERVAL, consentTimeoutMs: 10_000 });
    cleanups.push(() => peer.close());
    for (let waited = 0; peer.requests.length < 3 && waited < SLACK * 3; waited += INTERVAL)
      await new Promise((r) => setTimeout(r, INTERVAL));
    const ids = new Set(peer.requests.map((r) => r.transactionId.toString('hex')));
    expect(ids.size).toBe(peer.requests.length);
    for (const r of peer.requests) {
      expect(r.username()).toBe(`fake:${peer.agent.localParameters.ufrag}`);
      expect(r.priority()).toBeGreaterThan(0);
      expect(r.iceControlled()).toBeDefined();
      expect(r.useCandidate()).toBe(false);
      expect(r.hasIntegrity() && r.hasFingerprint()).toBe(true);
    }
    expect(peer.agent.getStats().consentChecksAnswered).toBeGreaterThanOrEqual(2);
  });
});

describe('unanswered checks over a long silence', () => {
  it('do not pile up: a peer silent for 20 intervals comes back with no listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    const peer = await fakePeer({ consentIntervalMs: 50, consentTimeoutMs: 20_000 });
    cleanups.push(() => peer.close());
    peer.answer = 'silent';
    await nextState(peer.agent, 'disconnected', SLACK);
    for (let waited = 0; peer.requests.length < 20 && waited < 10 * SLACK; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    peer.answer = 'success';
    await nextState(peer.agent, 'completed', SLACK);
    expect(peer.requests.length).toBeGreaterThanOrEqual(20);
    expect(warnings).toEqual([]);
  });
});

describe("the peer's consent checks", () => {
  it('are answered after selection and never reach the application', async () => {
    const peer = await fakePeer({ consentIntervalMs: 60_000, consentTimeoutMs: 120_000 });
    cleanups.push(() => peer.close());
    const packets: string[] = [];
    peer.conn.on('packet', (p) => packets.push(p.toString()));
    const response = await peer.check();
    expect(response.isSuccess()).toBe(true);
    const after = new Promise<void>((resolve) => peer.conn.once('packet', () => resolve()));
    peer.sendData(Buffer.from('after'));
    await after;
    expect(packets).toEqual(['after']);
    expect(peer.agent.state).toBe('completed');
  });
});

describe('failure detection of the selected connection', () => {
  it('a reset by the peer: disconnected with ERR_CONNECTION_LOST (reset) at once, failed at consent expiry', async () => {
    const p = await proxiedPair({ consentIntervalMs: INTERVAL, consentTimeoutMs: TIMEOUT });
    cleanups.push(() => p.close());
    const states = recordStates(p.alice);
    const resetAt = performance.now();
    p.proxy.towardsAlice().resetAndDestroy();
    const disconnected = await nextState(p.alice, 'disconnected', SLACK);
    console.log(`peer reset: disconnected after ${(disconnected.at - resetAt).toFixed(1)} ms`);
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'reset' });
    expect(disconnected.at - resetAt).toBeLessThan(SLACK);
    const failed = await nextState(p.alice, 'failed', TIMEOUT + SLACK);
    expect(failed.reason).toBe(disconnected.reason);
    expect(states.map((s) => s.state)).toEqual(['disconnected', 'failed']);
  });

  it('a peer that sends FIN and closes its socket: disconnected within an interval, even when we send nothing', async () => {
    const p = await proxiedPair({ consentIntervalMs: INTERVAL, consentTimeoutMs: 120_000 });
    cleanups.push(() => p.close());
    const socket = p.proxy.towardsAlice();
    const finAt = performance.now();
    socket.end(() => socket.destroy());
    const disconnected = await nextState(p.alice, 'disconnected', INTERVAL + SLACK);
    console.log(`peer FIN then close: disconnected after ${(disconnected.at - finAt).toFixed(1)} ms`);
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST' });
  });

  it('a peer whose socket closes (FIN from a closed socket, as when its process exits): disconnected at once', async () => {
    // with a 60 s interval, only the keepalive sent at once on the peer's FIN can find the socket gone in time
    const p = await proxiedPair({ consentIntervalMs: 60_000, consentTimeoutMs: 120_000 });
    cleanups.push(() => p.close());
    const closedAt = performance.now();
    p.proxy.towardsAlice().destroy();
    const disconnected = await nextState(p.alice, 'disconnected', SLACK);
    console.log(`peer socket closed: disconnected after ${(disconnected.at - closedAt).toFixed(1)} ms`);
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'reset' });
  });

  it('a peer that only half-closes stays connected: our data still flows, consent does not expire', async () => {
    const p = await proxiedPair({ consentIntervalMs: INTERVAL, consentTimeoutMs: TIMEOUT });
    cleanups.push(() => p.close());
    const states = recordStates(p.alice);
    const ended = new Promise<void>((resolve) => p.ca.once('end', resolve));
    p.cb.close();
    await ended;
    await new Promise((r) => setTimeout(r, TIMEOUT + 500));
    const got = new Promise<Buffer>((resolve) => p.cb.once('packet', resolve));
    p.ca.send(Buffer.from('still here'));
    expect((await got).toString()).toBe('still here');
    expect(states).toEqual([]);
    expect(p.alice.state).toBe('completed');
  });

  it('both directions ended cleanly: disconnected then failed at once, with ERR_CONNECTION_LOST (closed)', async () => {
    const p = await proxiedPair({ consentIntervalMs: 60_000, consentTimeoutMs: 120_000 });
    cleanups.push(() => p.close());
    const states = recordStates(p.alice);
    p.ca.on('end', () => p.ca.close());
    const failed = nextState(p.alice, 'failed', SLACK);
    p.cb.close();
    const f = await failed;
    expect(f.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'closed' });
    expect(states.map((s) => s.state)).toEqual(['disconnected', 'failed']);
  });

  it('close() of the agent leaves no timer: closed, and no later state', async () => {
    const p = await proxiedPair(consent);
    const states = recordStates(p.alice);
    p.close();
    await new Promise((r) => setTimeout(r, TIMEOUT + 500));
    expect(states.map((s) => s.state)).toEqual(['closed']);
  });
});
