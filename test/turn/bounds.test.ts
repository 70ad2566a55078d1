import { afterEach, describe, expect, test } from 'vitest';
import { StunClass, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { TurnAllocation, type TurnPeerConnection } from '../../src/turn/index.js';
import { StunPrefixReader } from '../../src/turn/stun-prefix-reader.js';
import { socketPair } from '../transport/helpers.js';
import { answer, challenge, FAKE, FAKE_KEY, type FakeTurnServer, startFakeTurn } from './fake-turn-server.js';

let server: FakeTurnServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await server?.close();
  server = undefined;
});

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** A server that allocates, and answers ConnectionBind only when `bindOk` says so (else never). */
async function serve(bindOk: () => boolean): Promise<FakeTurnServer> {
  server = await startFakeTurn((req) => {
    if (!challenge(req)) return;
    const ok = answer(req, StunClass.SuccessResponse);
    if (req.message.method === StunMethod.Allocate) {
      ok.xorRelayedAddress({ family: 4, address: '10.0.0.1', port: 5000 }).lifetime(600);
    } else if (req.message.method === StunMethod.ConnectionBind && !bindOk()) {
      return;
    }
    req.socket.write(ok.build({ integrityKey: FAKE_KEY }));
  });
  return server;
}

async function allocate(port: number, extra: Partial<Parameters<typeof TurnAllocation.allocate>[0]> = {}) {
  const a = await TurnAllocation.allocate({ host: '127.0.0.1', port, ...FAKE, timeoutMs: 2000, ...extra });
  cleanups.push(() => a.close());
  return a;
}

function attempt(s: FakeTurnServer, id: number): void {
  s.sockets[0]?.write(
    new StunMessageBuilder(StunMethod.ConnectionAttempt, StunClass.Indication)
      .connectionId(id)
      .xorPeerAddress({ family: 4, address: '198.51.100.9', port: 6000 + id })
      .build(),
  );
}

/** Issue 8 item 14: every ConnectionAttempt opened one more data connection, without limit. */
describe('relayed inbound connections are capped', () => {
  test('ConnectionAttempts past maxInboundConnections open no data connection', async () => {
    const s = await serve(() => false);
    await allocate(s.port, { maxInboundConnections: 2 });
    for (let id = 1; id <= 10; id++) attempt(s, id);
    await tick(200);
    expect(s.sockets.length - 1).toBe(2);
  });

  test('the default cap is 32, and a closed inbound connection frees its place', async () => {
    let ok = false;
    const s = await serve(() => ok);
    await allocate(s.port);
    for (let id = 1; id <= 40; id++) attempt(s, id);
    await tick(300);
    expect(s.sockets.length - 1).toBe(32);

    ok = true;
    const small = await allocate(s.port, { maxInboundConnections: 1 });
    const connections: TurnPeerConnection[] = [];
    small.on('connection', (c) => connections.push(c));
    const control = s.sockets.length - 1;
    const before = s.sockets.length;
    s.sockets[control]?.write(
      new StunMessageBuilder(StunMethod.ConnectionAttempt, StunClass.Indication)
        .connectionId(100)
        .xorPeerAddress({ family: 4, address: '198.51.100.9', port: 7000 })
        .build(),
    );
    while (connections.length === 0) await tick();
    s.sockets[control]?.write(
      new StunMessageBuilder(StunMethod.ConnectionAttempt, StunClass.Indication)
        .connectionId(101)
        .xorPeerAddress({ family: 4, address: '198.51.100.9', port: 7001 })
        .build(),
    );
    await tick(100);
    expect(s.sockets.length).toBe(before + 1);
    connections[0]?.socket.destroy();
    await tick(50);
    s.sockets[control]?.write(
      new StunMessageBuilder(StunMethod.ConnectionAttempt, StunClass.Indication)
        .connectionId(102)
        .xorPeerAddress({ family: 4, address: '198.51.100.9', port: 7002 })
        .build(),
    );
    while (connections.length < 2) await tick();
    expect(connections.map((c) => c.connectionId)).toEqual([100, 102]);
  });
});

/** Issue 8 item 14: the reader of a data connection buffered whatever the server sent, without bound. */
describe('StunPrefixReader holds a bounded number of bytes', () => {
  test('a server that floods the data connection is held back by TCP, and nothing is lost', async () => {
    const pair = await socketPair();
    cleanups.push(() => pair.close());
    const reader = new StunPrefixReader(pair.client);
    const total = 16 * 1024 * 1024;
    const flood = Buffer.alloc(total, 0x01);
    pair.server.write(flood);
    await tick(300);
    // the kernel buffers hold a few MB: the rest waits in the sender because the reader stopped reading
    expect(pair.server.writableLength).toBeGreaterThan(0);
    expect(reader.bufferedBytes).toBeLessThanOrEqual(2 * (20 + 0xffff));
    reader.release();
    let received = 0;
    pair.client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    while (received < total) await tick();
    expect(received).toBe(total);
  }, 10_000);
});
