/** Issue 8, item 10: idle floods, drips and per-IP floods must never lock legitimate clients out. */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { sourceKey } from '../../src/server/connection-table.js';
import { StunServer, type StunServerOptions } from '../../src/server/index.js';
import { StunClass } from '../../src/stun/index.js';
import { bindingRequest, TcpClient, tid, udpExchange } from './client.js';

let servers: StunServer[] = [];
let clients: TcpClient[] = [];
let timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers) clearInterval(t);
  timers = [];
  for (const c of clients) c.destroy();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(options: StunServerOptions = {}): Promise<StunServer> {
  const server = await StunServer.start({ host: '127.0.0.1', udp: false, ...options });
  servers.push(server);
  return server;
}

async function client(server: StunServer, localAddress?: string): Promise<TcpClient> {
  const c = await TcpClient.connect(server.primary.port, '127.0.0.1', undefined, localAddress);
  clients.push(c);
  return c;
}

/** Waits until the server has accepted (and judged) what the clients opened; bounded. */
async function settle(server: StunServer, count: (n: number) => boolean): Promise<void> {
  for (let i = 0; i < 200 && !count(server.connectionCount); i++) await sleep(10);
}

/** Sends one Binding request and expects its success response on this connection. */
async function expectAnswered(c: TcpClient): Promise<void> {
  const request = bindingRequest();
  const answer = await c.request(request);
  expect(answer.cls).toBe(StunClass.SuccessResponse);
  expect(answer.transactionId.toString('hex')).toBe(tid(request));
}

/** A valid request of about 2 KB: dripped, it stays incomplete for the whole test. */
const LONG_REQUEST = bindingRequest((b) => b.software('z'.repeat(700)).add(0x8050, Buffer.alloc(1300)));

/** Writes `bytes` one at a time, every `everyMs`, until done or the connection is gone. */
function drip(c: TcpClient, bytes: Buffer, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (i >= bytes.length || c.socket.destroyed) clearInterval(timer);
    else c.socket.write(bytes.subarray(i, ++i));
  }, everyMs);
  timers.push(timer);
}

/** Resolves with whether the connection was closed before `ms` passed. */
async function endedWithin(c: TcpClient, ms: number): Promise<boolean> {
  return Promise.race([c.ended.then(() => true), sleep(ms).then(() => false)]);
}

describe('StunServer connection policy (TCP)', () => {
  it('serves a new client when idle connections hold the cap, by resetting the oldest idle one', async () => {
    const server = await start({ maxConnections: 20, maxConnectionsPerIp: 1000 });
    const idle: TcpClient[] = [];
    for (let i = 0; i < 60; i++) idle.push(await client(server));
    await settle(server, (n) => n <= 20);
    expect(server.connectionCount).toBeLessThanOrEqual(20);
    const legit = await client(server);
    await expectAnswered(legit);
    expect((await idle[0]!.ended).code).toBe('ECONNRESET');
    expect(server.connectionCount).toBeLessThanOrEqual(20);
  });

  it('resets the connection idle the longest, not one that was answered since', async () => {
    const server = await start({ maxConnections: 5, maxConnectionsPerIp: 1000 });
    const a = await client(server);
    await expectAnswered(a);
    const others: TcpClient[] = [];
    for (let i = 0; i < 4; i++) others.push(await client(server));
    await settle(server, (n) => n === 5);
    await expectAnswered(a); // a is now the most recently active connection
    const newcomer = await client(server);
    await expectAnswered(newcomer);
    expect((await others[0]!.ended).code).toBe('ECONNRESET');
    expect(a.socket.destroyed).toBe(false);
    await expectAnswered(a);
  });

  it('resets a connection that completes no request within requestTimeoutMs', async () => {
    const server = await start({ requestTimeoutMs: 200, idleTimeoutMs: 30_000 });
    const silent = await client(server);
    expect(await endedWithin(silent, 3000)).toBe(true);
    expect((await silent.ended).code).toBe('ECONNRESET');
    expect(silent.messages).toHaveLength(0);
  });

  it('does not let a one-byte drip keep a connection that never completes its first request', async () => {
    const server = await start({ requestTimeoutMs: 300, idleTimeoutMs: 20_000 });
    const dripper = await client(server);
    // a 28-byte request at one byte per 100 ms would complete after 2.8 s; the deadline comes first
    drip(dripper, bindingRequest(), 100);
    expect(await endedWithin(dripper, 4000)).toBe(true);
    expect(dripper.messages).toHaveLength(0);
  });

  it('does not restart the idle timeout for bytes that do not complete a request', async () => {
    const server = await start({ requestTimeoutMs: 10_000, idleTimeoutMs: 600 });
    const c = await client(server);
    await expectAnswered(c);
    drip(c, bindingRequest(), 100);
    expect(await endedWithin(c, 4000)).toBe(true);
    expect(c.messages).toHaveLength(1);
  });

  it('answers legitimate probes while drippers from many addresses hold the cap', async () => {
    const server = await start({ maxConnections: 30, maxConnectionsPerIp: 1000, requestTimeoutMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      const d = await client(server, `127.0.1.${1 + (i % 10)}`);
      drip(d, LONG_REQUEST, 200);
    }
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      const probe = await client(server);
      const request = bindingRequest();
      probe.socket.write(request);
      await Promise.race([probe.waitFor(1).catch(() => []), probe.ended]);
      if (probe.messages[0]?.transactionId.toString('hex') === tid(request)) answered++;
      probe.destroy();
      // a few more drippers arrive between probes
      for (let j = 0; j < 5; j++) drip(await client(server, `127.0.1.${20 + j}`), LONG_REQUEST, 200);
    }
    expect(answered).toBe(20);
  });

  it('caps connections per source address, resetting that address oldest first', async () => {
    const server = await start({ maxConnections: 100, maxConnectionsPerIp: 5 });
    const flood: TcpClient[] = [];
    for (let i = 0; i < 12; i++) flood.push(await client(server, '127.0.0.2'));
    const neighbours = await Promise.all([1, 2, 3].map(() => client(server, '127.0.0.3')));
    await settle(server, (n) => n <= 8);
    for (const c of flood.slice(0, 7)) expect(await endedWithin(c, 2000)).toBe(true);
    for (const c of flood.slice(7)) expect(c.socket.destroyed).toBe(false);
    for (const c of neighbours) await expectAnswered(c);
    // the newest from the capped address is served too (its oldest is reset instead)
    await expectAnswered(await client(server, '127.0.0.2'));
    expect(await endedWithin(flood[7]!, 2000)).toBe(true);
  });

  it('buffers little for a client that sends thousands of requests and reads nothing', async () => {
    const server = await start({ software: 'x'.repeat(700) });
    const hog = await client(server);
    hog.socket.pause();
    // 1.1 MB of requests asking for ~32 MB of answers: more than the kernel's buffers hold
    hog.socket.write(Buffer.concat(Array.from({ length: 40_000 }, () => bindingRequest())));
    let buffered = 0;
    for (let i = 0; i < 20; i++) {
      await sleep(50);
      buffered = Math.max(buffered, server.bufferedBytes);
    }
    expect(buffered).toBeLessThan(256 * 1024);
    await expectAnswered(await client(server));
  });

  it('rejects policy options that cannot work, naming the option', async () => {
    for (const bad of [
      { maxConnectionsPerIp: 0 },
      { requestTimeoutMs: -1 },
      { requestTimeoutMs: 1.5 },
      { udpAmplificationLimit: 0.5 },
    ] as StunServerOptions[]) {
      const error = await StunServer.start({ host: '127.0.0.1', ...bad }).then(
        (s) => {
          servers.push(s);
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toContain(Object.keys(bad)[0]);
    }
  });
});

describe('StunServer UDP amplification', () => {
  it('leaves out SOFTWARE when it would make the response more than 3x the request', async () => {
    const server = await start({ udp: true, software: 'x'.repeat(700) });
    const request = bindingRequest();
    const { answers } = await udpExchange(server.primary.port, [request]);
    const [answer] = answers;
    expect(answer?.xorMappedAddress()?.address).toBe('127.0.0.1');
    expect(answer?.software()).toBeUndefined();
    expect(answer?.raw.length).toBeLessThanOrEqual(3 * request.length);
  });

  it('keeps SOFTWARE for a request large enough to carry it', async () => {
    const server = await start({ udp: true, software: 'x'.repeat(700) });
    const request = bindingRequest((b) => b.software('y'.repeat(300)));
    const { answers } = await udpExchange(server.primary.port, [request]);
    expect(answers[0]?.software()).toBe('x'.repeat(700));
  });

  it('follows udpAmplificationLimit: 1 keeps a response no larger than its request', async () => {
    const server = await start({
      udp: true,
      alternatePort: 0,
      software: 'ice-tcp',
      udpAmplificationLimit: 1,
    });
    const request = bindingRequest((b) => b.software('y'.repeat(20)));
    const { answers } = await udpExchange(server.primary.port, [request]);
    const [answer] = answers;
    expect(answer?.xorMappedAddress()).toBeDefined();
    expect(answer?.raw.length).toBeLessThanOrEqual(request.length);
  });
});

describe('sourceKey', () => {
  it('counts an IPv6 /64 as one source and an IPv4-mapped address as its IPv4 one', () => {
    expect(sourceKey('2001:db8:1:2::5')).toBe(sourceKey('2001:0db8:1:2:ffff:1:2:3'));
    expect(sourceKey('2001:db8:1:3::5')).not.toBe(sourceKey('2001:db8:1:2::5'));
    expect(sourceKey('fe80::1%eth0')).toBe(sourceKey('fe80::2'));
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('198.51.100.7')).toBe('198.51.100.7');
  });
});
