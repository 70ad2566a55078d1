import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { IceAgentOptions } from '../../src/index.js';
import { agentPair } from '../agent/helpers.js';
import { countUntilEnd, valueAfter, writeBytes } from '../connection/helpers.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { hasCommand, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip(
  'half-close through a coturn relay',
  hasCommand('turnserver') ? [] : ['turnserver (coturn)'],
);

const USERS = { alice: 'secret-a', bob: 'secret-b' };

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** What one side of a stream saw: bytes until it ended, or the error code that ended it. */
function outcome(stream: Duplex): Promise<string> {
  return countUntilEnd(stream).then(
    (n) => `end after ${n} bytes`,
    (error: { code?: string; syscallCode?: string }) =>
      `error ${error.code} ${error.syscallCode ?? ''}`.trim(),
  );
}

describe.skipIf(!ok)('half-close through coturn (which has no TCP half-close)', () => {
  let coturn: Coturn;
  // plain RFC 4571 framing: the stream's ends are the TCP FINs that coturn turns into resets
  const relayOnly = (
    user: keyof typeof USERS,
    role: 'controlling' | 'controlled',
    streamResume = false,
  ): IceAgentOptions => ({
    addresses: ['127.0.0.1'],
    role,
    forceRelay: true,
    streamResume,
    turnServers: [{ host: coturn.host, port: coturn.port, username: user, password: USERS[user] }],
  });

  beforeAll(async () => {
    coturn = await startCoturn({ users: USERS });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  async function connected(streamResume = false) {
    const p = agentPair(
      relayOnly('alice', 'controlling', streamResume),
      relayOnly('bob', 'controlled', streamResume),
    );
    cleanup.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    expect(ca.localCandidate.type === 'relay' || ca.remoteCandidate.type === 'relay').toBe(true);
    return { sa: ca.stream(), sb: cb.stream() };
  }

  test('the side that ends first resets the relayed connection: both streams error, nothing more arrives', async () => {
    const { sa, sb } = await connected();
    const atA = outcome(sa);
    const atB = outcome(sb);
    sa.end();
    const bSaw = await Promise.race([atB, valueAfter(10_000, 'hung')]);
    const aSaw = await Promise.race([atA, valueAfter(10_000, 'hung')]);
    console.info(`[measure] relay half-close, A ended first: B saw "${bSaw}", A saw "${aSaw}"`);
    // coturn 4.6.1 answers a FIN on either leg with a RST on both: a peer's end() looks like a reset
    expect(bSaw).toBe('error ERR_SOCKET ECONNRESET');
    expect(aSaw).toBe('error ERR_SOCKET ECONNRESET');
  });

  test('receiver ends first, then the sender: every byte arrives', async () => {
    const { sa, sb } = await connected();
    const n = 4 * 1024 * 1024;
    const atA = outcome(sa);
    let got = 0;
    const allAtB = new Promise<void>((resolve) => {
      sb.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got >= n) resolve();
      });
    });
    const atB = outcome(sb);
    await writeBytes(sa, n, false);
    await Promise.race([allAtB, valueAfter(20_000, undefined)]);
    expect(got).toBe(n);
    // the receiver ends first (it has everything), then the sender
    sb.end();
    const aSaw = await Promise.race([atA, valueAfter(10_000, 'hung')]);
    sa.end();
    const bSaw = await Promise.race([atB, valueAfter(10_000, 'hung')]);
    console.info(`[measure] relay, receiver ended first: A saw "${aSaw}", B saw "${bSaw}"`);
    expect(aSaw).toMatch(/^error ERR_SOCKET ECONNRESET$|^end after 0 bytes$/);
    expect(bSaw).toMatch(/^error ERR_SOCKET ECONNRESET$|^end after 0 bytes$/);
  });

  test('with icetcp+resume (the default) the ends travel in-band: a half-close works through coturn', async () => {
    const { sa, sb } = await connected(true);
    const n = 1024 * 1024;
    const atA = outcome(sa);
    const atB = outcome(sb);
    await writeBytes(sa, n, true);
    expect(await Promise.race([atB, valueAfter(20_000, 'hung')])).toBe(`end after ${n} bytes`);
    // B goes on writing after A's end, and A reads it all
    await writeBytes(sb, n, true);
    expect(await Promise.race([atA, valueAfter(20_000, 'hung')])).toBe(`end after ${n} bytes`);
  });
});
