import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { type IceTcpError, TurnError } from '../../src/errors.js';
import { StunClass, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { TurnAllocation, type TurnPeerConnection } from '../../src/turn/index.js';
import {
  answer,
  challenge,
  FAKE,
  FAKE_KEY,
  type FakeRequest,
  type FakeTurnServer,
  startFakeTurn,
} from './fake-turn-server.js';

const RELAYED = { family: 4, address: '10.0.0.1', port: 5000 } as const;
const MAPPED = { family: 4, address: '127.0.0.1', port: 40000 } as const;

let server: FakeTurnServer | undefined;
const allocations: TurnAllocation[] = [];
afterEach(async () => {
  for (const a of allocations.splice(0)) await a.close();
  await server?.close();
  server = undefined;
});

/** A well-behaved server; `override` may answer a request itself (return true) before the default. */
async function serve(override?: (req: FakeRequest) => boolean, lifetime = 600): Promise<FakeTurnServer> {
  server = await startFakeTurn((req) => {
    if (override?.(req)) return;
    if (!challenge(req)) return;
    const ok = answer(req, StunClass.SuccessResponse);
    switch (req.message.method) {
      case StunMethod.Allocate:
        ok.xorRelayedAddress(RELAYED).xorMappedAddress(MAPPED).lifetime(lifetime);
        break;
      case StunMethod.Refresh:
        ok.lifetime(req.message.lifetime() ?? lifetime);
        break;
      case StunMethod.Connect:
        ok.connectionId(42);
        break;
    }
    req.socket.write(ok.build({ integrityKey: FAKE_KEY, fingerprint: true }));
  });
  return server;
}

async function allocate(port: number, extra: Partial<Parameters<typeof TurnAllocation.allocate>[0]> = {}) {
  const a = await TurnAllocation.allocate({ host: '127.0.0.1', port, ...FAKE, timeoutMs: 2000, ...extra });
  allocations.push(a);
  return a;
}

async function rejection(p: Promise<unknown>): Promise<IceTcpError> {
  try {
    await p;
  } catch (err) {
    return err as IceTcpError;
  }
  throw new Error('expected a rejection');
}

describe('TurnAllocation against a scripted server', () => {
  test('401 challenge, 438 stale nonce retry, stray response ignored, addresses parsed', async () => {
    let staleSent = false;
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.Allocate || !req.message.hasIntegrity()) return false;
      if (!staleSent) {
        staleSent = true;
        // Pretend the nonce expired between the challenge and the signed request.
        req.socket.write(
          answer(req, StunClass.ErrorResponse).errorCode(438).realm(FAKE.realm).nonce('n1').build(),
        );
        return true;
      }
      // A response nobody asked for, first: it must be dropped, not taken for the Allocate answer.
      req.socket.write(new StunMessageBuilder(StunMethod.Allocate, StunClass.SuccessResponse).build());
      return false;
    });
    const a = await allocate(s.port);
    expect(a.relayedAddress).toEqual(RELAYED);
    expect(a.mappedAddress).toEqual(MAPPED);
    const allocates = s.received.filter((r) => r.message.method === StunMethod.Allocate);
    expect(allocates.length).toBe(3);
    expect(allocates[0]?.message.hasIntegrity()).toBe(false);
    expect(allocates[0]?.message.requestedTransport()).toBe(6);
    expect(allocates[2]?.message.username()).toBe(FAKE.username);
    expect(allocates[2]?.message.realm()).toBe(FAKE.realm);
  });

  test('wrong password is ERR_TURN_AUTH with stunCode 401', async () => {
    const s = await serve();
    const err = await rejection(allocate(s.port, { password: 'nope' }));
    expect(err).toBeInstanceOf(TurnError);
    expect(err.code).toBe('ERR_TURN_AUTH');
    expect((err as TurnError).stunCode).toBe(401);
    expect(err.message).toMatch(/password/);
  });

  test('a success response with a bad MESSAGE-INTEGRITY is rejected', async () => {
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.Allocate || !req.message.hasIntegrity()) return false;
      const ok = answer(req, StunClass.SuccessResponse).xorRelayedAddress(RELAYED);
      req.socket.write(ok.build({ integrityKey: Buffer.from('not the key') }));
      return true;
    });
    const err = await rejection(allocate(s.port));
    expect(err.code).toBe('ERR_TURN');
    expect(err.message).toMatch(/INTEGRITY/);
  });

  test.each([
    [486, 'ERR_TURN_CAPACITY'],
    [508, 'ERR_TURN_CAPACITY'],
    [403, 'ERR_TURN'],
  ])('Allocate error %i maps to %s', async (code, expected) => {
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.Allocate || !req.message.hasIntegrity()) return false;
      req.socket.write(
        answer(req, StunClass.ErrorResponse).errorCode(code).build({ integrityKey: FAKE_KEY }),
      );
      return true;
    });
    const err = await rejection(allocate(s.port));
    expect(err.code).toBe(expected);
    expect((err as TurnError).stunCode).toBe(code);
  });

  test.each([
    [446, 'ERR_TURN_CONNECTION'],
    [447, 'ERR_TURN_CONNECTION'],
  ])('Connect error %i maps to %s', async (code, expected) => {
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.Connect || !req.message.hasIntegrity()) return false;
      req.socket.write(
        answer(req, StunClass.ErrorResponse).errorCode(code).build({ integrityKey: FAKE_KEY }),
      );
      return true;
    });
    const a = await allocate(s.port);
    const err = await rejection(a.connect({ family: 4, address: '192.0.2.7', port: 9 }));
    expect(err.code).toBe(expected);
  });

  test('a server that never answers: typed timeout; an aborted signal: ERR_ABORTED', async () => {
    server = await startFakeTurn(() => {});
    const timedOut = await rejection(allocate(server.port, { timeoutMs: 300 }));
    expect(timedOut.code).toBe('ERR_TURN');
    expect(timedOut.message).toMatch(/timed out after 300 ms/);
    const controller = new AbortController();
    const pending = allocate(server.port, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect((await rejection(pending)).code).toBe('ERR_ABORTED');
  });

  test('connect: permission first, then Connect, then ConnectionBind; bytes sent with the bind answer are kept', async () => {
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.ConnectionBind || !challenge(req)) return false;
      const ok = answer(req, StunClass.SuccessResponse).build({ integrityKey: FAKE_KEY });
      // The response and the peer's first bytes in one TCP segment: the reader must not swallow them.
      req.socket.write(Buffer.concat([ok, Buffer.from('early peer bytes|')]));
      setImmediate(() => req.socket.write('later bytes'));
      return true;
    });
    const a = await allocate(s.port);
    const peer = { family: 4, address: '192.0.2.7', port: 7000 } as const;
    const conn = await a.connect(peer);
    expect(conn.connectionId).toBe(42);
    expect(conn.peer).toEqual(peer);
    let text = '';
    conn.socket.setEncoding('utf8');
    conn.socket.on('data', (d: string) => {
      text += d;
    });
    while (!text.includes('later bytes')) await once(conn.socket, 'data');
    expect(text).toBe('early peer bytes|later bytes');
    const methods = s.received.filter((r) => r.message.hasIntegrity()).map((r) => r.message.method);
    expect(methods).toEqual([
      StunMethod.Allocate,
      StunMethod.CreatePermission,
      StunMethod.Connect,
      StunMethod.ConnectionBind,
    ]);
    const bind = s.received.find((r) => r.message.method === StunMethod.ConnectionBind);
    expect(bind?.message.connectionId()).toBe(42);
    expect(bind?.connection).toBe(1); // a new TCP connection, not the control one
  });

  test('ConnectionAttempt indication: binds a data connection and emits connection', async () => {
    const s = await serve((req) => {
      if (req.message.method !== StunMethod.ConnectionBind || !challenge(req)) return false;
      req.socket.write(answer(req, StunClass.SuccessResponse).build({ integrityKey: FAKE_KEY }));
      req.socket.write('hello from the peer');
      return true;
    });
    const a = await allocate(s.port);
    const peer = { family: 4, address: '198.51.100.9', port: 6543 } as const;
    const control = s.sockets[0]!;
    control.write(
      new StunMessageBuilder(StunMethod.ConnectionAttempt, StunClass.Indication)
        .connectionId(777)
        .xorPeerAddress(peer)
        .build(),
    );
    const conn = await new Promise<TurnPeerConnection>((r) => a.once('connection', r));
    expect(conn.connectionId).toBe(777);
    expect(conn.peer).toEqual(peer);
    const [data] = await once(conn.socket, 'data');
    expect(String(data)).toBe('hello from the peer');
  });

  test('refreshes before the lifetime runs out; close() sends LIFETIME=0', async () => {
    const s = await serve(undefined, 2);
    const a = await allocate(s.port);
    const refreshed = () =>
      s.received.filter((r) => r.message.method === StunMethod.Refresh && r.message.hasIntegrity());
    while (refreshed().length === 0) await new Promise((r) => setTimeout(r, 50));
    expect(refreshed()[0]?.message.lifetime()).toBeUndefined(); // no lifetime asked for: server default
    const closed = new Promise<void>((r) => a.once('closed', r));
    await a.close();
    await closed;
    const last = refreshed().at(-1);
    expect(last?.message.lifetime()).toBe(0);
    expect(a.closed).toBe(true);
  });

  test('losing the control connection emits error then closed', async () => {
    const s = await serve();
    const a = await allocate(s.port);
    const errors: IceTcpError[] = [];
    a.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((r) => a.once('closed', r));
    s.sockets[0]!.destroy();
    await closed;
    expect(errors[0]?.code).toBe('ERR_SOCKET');
    await expect(a.connect({ family: 4, address: '192.0.2.1', port: 1 })).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    });
  });

  test('a closed port is a typed socket error', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await rejection(allocate(port));
    expect(err.code).toBe('ERR_SOCKET');
  });
});
