import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IceAgentOptions, IceState } from '../../src/index.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { agentPair, roundTrip } from './helpers.js';
import { nextPathChange, SequencedFlow } from './restart-helpers.js';

/** ICE restart when the selected pair is relayed (coturn, RFC 6062): a new allocation, the same connection. */

const ok = requireOrSkip(
  'ICE restart through a coturn relay',
  hasCommand('turnserver') ? [] : ['turnserver (coturn)'],
);

const USERS = { alice: 'secret-a', bob: 'secret-b' };
const WAIT = 20_000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe.skipIf(!ok)('restart over a relayed pair', () => {
  let coturn: Coturn;
  const options = (user: keyof typeof USERS): IceAgentOptions => ({
    addresses: ['127.0.0.1'],
    turnServers: [{ host: coturn.host, port: coturn.port, username: user, password: USERS[user] }],
    forceRelay: true,
  });

  beforeAll(async () => {
    coturn = await startCoturn({ users: USERS });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('moves to a new relayed pair with packets in order, nothing duplicated, the agents completed throughout', async () => {
    const p = agentPair(
      { role: 'controlling', ...options('alice') },
      { role: 'controlled', ...options('bob') },
    );
    cleanups.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const before = { local: ca.localCandidate, remote: ca.remoteCandidate };
    expect(before.local.type === 'relay' || before.remote.type === 'relay').toBe(true);
    const states: IceState[] = [];
    p.alice.on('state', (s) => states.push(s));
    p.bob.on('state', (s) => states.push(s));
    const flow = new SequencedFlow(ca, cb, 10);
    flow.start();
    await flow.waitFor(10, WAIT);
    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    p.bob.restart();
    const [pa] = await moved;
    await flow.waitFor(20, WAIT);
    const sent = flow.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(pa.local.type === 'relay' || pa.remote.type === 'relay').toBe(true);
    expect(pa).not.toEqual(before);
    expect(flow.disorder()).toBe(0);
    expect(flow.received.length).toBe(sent);
    expect(states).toEqual([]);
    await roundTrip(ca, cb);
  });
});
