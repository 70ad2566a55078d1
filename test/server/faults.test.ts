import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StunServer } from '../../src/server/index.js';
import { StunClass } from '../../src/stun/index.js';
import { bindingRequest, TcpClient, tid, udpExchange } from './client.js';

let servers: StunServer[] = [];
let clients: TcpClient[] = [];
afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(options: Parameters<typeof StunServer.start>[0] = {}): Promise<StunServer> {
  const server = await StunServer.start({ host: '127.0.0.1', ...options });
  servers.push(server);
  return server;
}

async function client(server: StunServer): Promise<TcpClient> {
  const c = await TcpClient.connect(server.primary.port);
  clients.push(c);
  return c;
}

/** A well-behaved client still gets its answer: what the faults must never take away. */
async function expectAnswered(server: StunServer, c?: TcpClient): Promise<void> {
  const conn = c ?? (await client(server));
  const request = bindingRequest();
  conn.socket.write(request);
  // matched by transaction id: a busy client may have other answers in flight
  for (;;) {
    const answer = conn.messages.find((m) => m.transactionId.toString('hex') === tid(request));
    if (answer) {
      expect(answer.cls).toBe(StunClass.SuccessResponse);
      return;
    }
    await conn.waitFor(conn.messages.length + 1);
  }
}

/** A STUN header announcing `length` bytes of attributes, with a valid magic cookie. */
function header(length: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(0x0001, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(0x2112a442, 4);
  return h;
}

describe('StunServer under misbehaving clients (TCP)', () => {
  it('resets a connection that sends junk; a neighbour keeps being answered', async () => {
    const server = await start();
    const good = await client(server);
    const bad = await client(server);
    await expectAnswered(server, good);
    bad.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const ending = await bad.ended;
    expect(ending.code).toBe('ECONNRESET');
    expect(bad.messages).toHaveLength(0);
    await expectAnswered(server, good);
  });

  it('answers requests that came before junk on the same connection, then resets it', async () => {
    const server = await start();
    const c = await client(server);
    c.socket.write(Buffer.concat([bindingRequest(), bindingRequest()]));
    await c.waitFor(2);
    // a later segment of junk: the splitter rejects the chunk it arrives in (requests sharing that very
    // chunk are lost with it, measured; only the connection is)
    c.socket.write(Buffer.alloc(40, 0xff));
    const ending = await c.ended;
    expect(ending.code).toBe('ECONNRESET');
    expect(c.messages.map((m) => m.cls)).toEqual([StunClass.SuccessResponse, StunClass.SuccessResponse]);
  });

  it('resets a truncated message when the client ends the stream inside it', async () => {
    const server = await start();
    const c = await client(server);
    const request = bindingRequest();
    c.socket.end(request.subarray(0, request.length - 5));
    const ending = await c.ended;
    expect(c.messages).toHaveLength(0);
    expect(ending.code).toBe('ECONNRESET');
    await expectAnswered(server);
  });

  it('resets a connection whose header announces an oversized message, without waiting for the body', async () => {
    const server = await start();
    const c = await client(server);
    c.socket.write(header(60_000));
    const ending = await c.ended;
    expect(ending.code).toBe('ECONNRESET');
    await expectAnswered(server);
  });

  it('answers a slow client that sends its request a few bytes at a time', async () => {
    const server = await start();
    const c = await client(server);
    const request = bindingRequest();
    const answered = c.waitFor(1);
    for (let i = 0; i < request.length; i += 7) {
      c.socket.write(request.subarray(i, i + 7));
      await new Promise((r) => setTimeout(r, 10));
    }
    const [answer] = await answered;
    expect(answer?.transactionId.toString('hex')).toBe(tid(request));
  });

  it('resets a connection that stays idle, and only that one', async () => {
    const server = await start({ idleTimeoutMs: 200 });
    const idle = await client(server);
    await expectAnswered(server, idle); // then silent: the idle timeout, not the first-request deadline
    const busy = await client(server);
    const keepBusy = setInterval(() => busy.socket.write(bindingRequest()), 50);
    try {
      const ending = await idle.ended;
      expect(ending.code).toBe('ECONNRESET');
      expect(busy.socket.destroyed).toBe(false);
      await expectAnswered(server, busy);
    } finally {
      clearInterval(keepBusy);
    }
  });

  it('keeps answering others while a client that never reads has a full socket', async () => {
    const server = await start();
    const hog = await client(server);
    hog.socket.pause();
    // ~1.6 MB of answers nobody reads: the server must stop reading this client instead of buffering
    const many = Buffer.concat(Array.from({ length: 20_000 }, () => bindingRequest()));
    hog.socket.write(many);
    await new Promise((r) => setTimeout(r, 300));
    await expectAnswered(server);
    hog.socket.resume();
  });

  it('answers every newcomer above maxConnections by resetting the stalest connection; the cap holds', async () => {
    const server = await start({ maxConnections: 8 });
    const first = await Promise.all(Array.from({ length: 8 }, () => client(server)));
    const sockets: net.Socket[] = [];
    const flood = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<boolean>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port: server.primary.port, autoSelectFamily: false });
            sockets.push(s);
            s.on('error', () => {});
            s.once('data', () => resolve(true));
            s.once('connect', () => s.write(bindingRequest()));
            s.once('close', () => resolve(false));
          }),
      ),
    );
    for (const s of sockets) s.resetAndDestroy();
    // concurrent newcomers may push each other out before their request lands, but most are answered
    expect(flood.filter(Boolean).length).toBeGreaterThan(20);
    // the 8 that held the cap without a request were the stalest: reset first, long before any deadline
    for (const c of first) expect((await c.ended).code).toBe('ECONNRESET');
    expect(server.connectionCount).toBeLessThanOrEqual(8);
    await expectAnswered(server);
  });
});

describe('StunServer under misbehaving clients (UDP)', () => {
  it('ignores junk, truncated and oversized datagrams and answers the request that follows', async () => {
    const server = await start();
    const request = bindingRequest();
    const { answers } = await udpExchange(server.primary.port, [
      Buffer.from('junk'),
      request.subarray(0, 24),
      Buffer.concat([header(8000), Buffer.alloc(8000)]),
      request,
    ]);
    expect(answers.map((a) => a.transactionId.toString('hex'))).toEqual([tid(request)]);
  });
});
