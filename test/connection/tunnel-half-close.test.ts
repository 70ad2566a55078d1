import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exchangeLines, LinePeer, ROOT } from '../support/line-peer.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const RESPONSE = 1024 * 1024;

/** A service that answers only once the client half-closed (like a request over `nc -N`). */
async function answersAfterEnd(): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end(Buffer.alloc(RESPONSE, 'r')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('examples/tunnel.ts with a client that half-closes', () => {
  it('the client ends its request first and still gets the whole 1 MiB response', async () => {
    const servicePort = await answersAfterEnd();
    const exposedPort = await freePort();
    const tunnel = [process.execPath, '--import', 'tsx', `${ROOT}examples/tunnel.ts`] as const;
    const [cmd, ...base] = tunnel;
    const serve = new LinePeer(cmd, [...base, 'serve', `127.0.0.1:${servicePort}`, '--bind', '127.0.0.1']);
    const expose = new LinePeer(cmd, [...base, 'expose', String(exposedPort), '--bind', '127.0.0.1']);
    cleanups.push(
      () => serve.kill(),
      () => expose.kill(),
    );
    await exchangeLines(serve, expose);
    const deadline = Date.now() + 20_000;
    while (!expose.stderr.includes('listening on') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const client = net.connect({ host: '127.0.0.1', port: exposedPort, allowHalfOpen: true });
    cleanups.push(() => client.destroy());
    client.on('error', () => {});
    let received = 0;
    const ended = new Promise<number>((resolve) => {
      client.on('data', (d: Buffer) => {
        received += d.length;
      });
      client.on('end', () => resolve(received));
      client.on('close', () => resolve(received));
    });
    client.end('GET /big\n');
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000).unref());
    expect(await Promise.race([ended, timeout])).toBe(RESPONSE);
  });
});
