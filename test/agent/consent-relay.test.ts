import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IceAgentOptions, IceState, IceTcpError } from '../../src/index.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { agentPair, roundTrip } from './helpers.js';

/** Consent freshness and failure detection when the selected pair is relayed (RFC 6062 data connections). */

const ok = requireOrSkip(
  'consent freshness through a coturn relay',
  hasCommand('turnserver') ? [] : ['turnserver (coturn)'],
);

const USERS = { alice: 'secret-a', bob: 'secret-b' };
const INTERVAL = 200;
const TIMEOUT = 1500;
const SLACK = 5000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe.skipIf(!ok)('consent over a relayed pair', () => {
  let coturn: Coturn;
  const options = (user: keyof typeof USERS): IceAgentOptions => ({
    addresses: ['127.0.0.1'],
    turnServers: [{ host: coturn.host, port: coturn.port, username: user, password: USERS[user] }],
    forceRelay: true,
    consentIntervalMs: INTERVAL,
    consentTimeoutMs: TIMEOUT,
  });

  beforeAll(async () => {
    coturn = await startCoturn({ users: USERS });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('keeps consent through the relay over 2x the timeout, then notices the relay going away', async () => {
    const p = agentPair(
      { role: 'controlling', ...options('alice') },
      { role: 'controlled', ...options('bob') },
    );
    cleanups.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    expect(ca.localCandidate.type === 'relay' || ca.remoteCandidate.type === 'relay').toBe(true);
    const states: IceState[] = [];
    p.alice.on('state', (s) => states.push(s));
    const end = performance.now() + 2 * TIMEOUT;
    while (performance.now() < end) {
      await roundTrip(ca, cb);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(states).not.toContain('failed');
    expect(p.alice.state).toBe('completed');
    const stats = p.alice.getStats();
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(3);
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(stats.consentChecksSent - 1);

    const disconnected = new Promise<IceTcpError | undefined>((resolve) => {
      p.alice.on('state', (s, reason) => {
        if (s === 'disconnected') resolve(reason);
      });
    });
    const stoppedAt = performance.now();
    await coturn.stop();
    const reason = await Promise.race([
      disconnected,
      new Promise<'none'>((r) => setTimeout(() => r('none'), SLACK).unref()),
    ]);
    console.log(`relay stopped: alice disconnected after ${Math.round(performance.now() - stoppedAt)} ms`);
    expect(reason).toMatchObject({ code: 'ERR_CONNECTION_LOST' });
  });
});
