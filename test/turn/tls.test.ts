import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { IceAgent, IceTcpError, type TurnServerOptions } from '../../src/index.js';
import { TurnAllocation, type TurnPeerConnection } from '../../src/turn/index.js';
import { agentPair, sha256Of, writeRandom } from '../agent/helpers.js';
import { type Coturn, hasOpenssl, startCoturn } from '../support/coturn.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { collect, sha256 } from './helpers.js';

const missing = [
  ...(hasCommand('turnserver') ? [] : ['turnserver (coturn)']),
  ...(hasOpenssl() ? [] : ['openssl']),
];
const ok = requireOrSkip('TURN over TLS against coturn', missing);

const USERS = { alice: 'secret-a', bob: 'secret-b' };
const KIB64 = 64 * 1024;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!ok)('TURN over TLS (RFC 6062 §4.1) against coturn', () => {
  let coturn: Coturn;
  const open: TurnAllocation[] = [];
  const cleanup: Array<() => void> = [];
  const server = (user: keyof typeof USERS): TurnServerOptions => ({
    host: '127.0.0.1',
    port: coturn.tlsPort ?? 0,
    username: user,
    password: USERS[user],
    transport: 'tls',
    ca: coturn.cert,
  });
  const allocate = async (user: keyof typeof USERS) => {
    const a = await TurnAllocation.allocate({ ...server(user), timeoutMs: 5000 });
    open.push(a);
    return a;
  };

  beforeAll(async () => {
    coturn = await startCoturn({ users: USERS, tls: true });
  });
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });
  afterAll(async () => {
    for (const a of open) await a.close();
    await coturn?.stop();
  });

  test('allocate over TLS with the self-signed cert as ca; Connect/ConnectionBind carry 64 KiB each way', async () => {
    expect(coturn.tlsPort).toBeGreaterThan(0);
    const a = await allocate('alice');
    const b = await allocate('bob');
    expect(a.relayedAddress.address).toBe('127.0.0.1');
    expect(a.relayedAddress.port).toBeGreaterThanOrEqual(coturn.relayPorts.min);
    expect(a.relayedAddress.port).toBeLessThanOrEqual(coturn.relayPorts.max);
    expect(a.server).toEqual({ host: '127.0.0.1', port: coturn.tlsPort });
    await b.createPermission(['127.0.0.1']);
    const inbound = new Promise<TurnPeerConnection>((resolve) => b.once('connection', resolve));
    const outbound = await a.connect(b.relayedAddress);
    const accepted = await inbound;
    // RFC 6062 §4.3: a data connection goes to the same server address as the control connection, so over TLS too.
    for (const conn of [outbound, accepted]) {
      expect(conn.socket).toBeInstanceOf(tls.TLSSocket);
      expect((conn.socket as tls.TLSSocket).encrypted).toBe(true);
      expect(conn.socket.remotePort).toBe(coturn.tlsPort);
    }
    const ab = randomBytes(KIB64);
    const ba = randomBytes(KIB64);
    const atB = collect(accepted.socket, KIB64);
    const atA = collect(outbound.socket, KIB64);
    outbound.socket.write(ab);
    accepted.socket.write(ba);
    expect(sha256(await atB)).toBe(sha256(ab));
    expect(sha256(await atA)).toBe(sha256(ba));
    outbound.socket.destroy();
    accepted.socket.destroy();
  });

  test('certificate not trusted (rejectUnauthorized default, no ca): a typed ERR_SOCKET, not a raw Error', async () => {
    const { ca: _ca, ...untrusted } = server('alice');
    const err = await rejection(TurnAllocation.allocate({ ...untrusted, timeoutMs: 5000 }));
    expect(err).toBeInstanceOf(IceTcpError);
    expect(err).toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  test('rejectUnauthorized: false accepts the self-signed server without a ca', async () => {
    const { ca: _ca, ...untrusted } = server('alice');
    const a = await TurnAllocation.allocate({ ...untrusted, rejectUnauthorized: false, timeoutMs: 5000 });
    open.push(a);
    expect(a.relayedAddress.port).toBeGreaterThanOrEqual(coturn.relayPorts.min);
    expect(a.relayedAddress.port).toBeLessThanOrEqual(coturn.relayPorts.max);
  });

  test('IceAgent: turnServers over TLS with ca, one side forced to relay, 64 KiB each way', async () => {
    const p = agentPair(
      { addresses: ['127.0.0.1'], role: 'controlling', forceRelay: true, turnServers: [server('alice')] },
      { addresses: ['127.0.0.1'], role: 'controlled', turnServers: [server('bob')] },
    );
    cleanup.push(() => p.close());
    const errors: IceTcpError[] = [];
    p.alice.on('error', (e) => errors.push(e));
    p.bob.on('error', (e) => errors.push(e));
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    expect(ca.localCandidate.type).toBe('relay');
    const sa = ca.stream();
    const sb = cb.stream();
    for (const [from, to, seed] of [
      [sa, sb, 1],
      [sb, sa, 2],
    ] as const) {
      const received = sha256Of(to, KIB64);
      const sent = await writeRandom(from, KIB64, seed);
      expect(await received).toBe(sent);
    }
    expect(errors).toEqual([]);
  });

  test('IceAgent: an untrusted TLS TURN server is an ERR_SOCKET error event; host candidates remain', async () => {
    const { ca: _ca, ...untrusted } = server('alice');
    const agent = new IceAgent({ addresses: ['127.0.0.1'], turnServers: [untrusted] });
    cleanup.push(() => agent.close());
    const errors: IceTcpError[] = [];
    agent.on('error', (e) => errors.push(e));
    await agent.gather();
    expect(errors.map((e) => e.code)).toEqual(['ERR_SOCKET']);
    expect(errors[0]).toBeInstanceOf(IceTcpError);
  });

  test('turnServers TLS options are validated', () => {
    const bad: Array<Partial<TurnServerOptions>> = [
      { transport: 'udp' as 'tcp' },
      { rejectUnauthorized: 'no' as unknown as boolean },
      { ca: 42 as unknown as string },
    ];
    for (const b of bad) {
      expect(() => new IceAgent({ turnServers: [{ ...server('alice'), ...b }] })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
