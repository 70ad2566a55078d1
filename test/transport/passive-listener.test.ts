import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, SocketError } from '../../src/errors.js';
import { dialActive, type FramedConnection, PassiveListener } from '../../src/transport/index.js';
import { nextEvent, plainServer, portOf } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function listen(options: Parameters<typeof PassiveListener.listen>[0]): Promise<PassiveListener> {
  const listener = await PassiveListener.listen(options);
  cleanups.push(() => listener.close());
  return listener;
}

/** A raw client; resolves with how it ended: 'open' if still open after a round trip, else the error code. */
function rawClient(port: number): net.Socket {
  const socket = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  return socket;
}

describe('PassiveListener', () => {
  it('accepts an active dial and hands out a framed connection', async () => {
    const listener = await listen({ address: '127.0.0.1' });
    expect(listener.port).toBeGreaterThan(0);
    const accepted = nextEvent<[FramedConnection]>(listener, 'connection');
    const dialled = await dialActive({
      localAddress: '127.0.0.1',
      remoteAddress: '127.0.0.1',
      remotePort: listener.port,
      timeoutMs: 2000,
    });
    cleanups.push(() => dialled.reset());
    const [inbound] = await accepted;
    cleanups.push(() => inbound.reset());
    expect(inbound.localPort).toBe(listener.port);
    expect(inbound.remotePort).toBe(dialled.localPort);
    const frame = nextEvent<[Buffer]>(inbound, 'frame');
    dialled.sendFrame(Buffer.from('check'));
    expect((await frame)[0].toString()).toBe('check');
  });

  it('beyond maxPendingConnections a newcomer evicts the oldest unreleased connection, never itself', async () => {
    const listener = await listen({ address: '127.0.0.1', maxPendingConnections: 2 });
    const handedOut: FramedConnection[] = [];
    listener.on('connection', (connection) => {
      handedOut.push(connection);
      cleanups.push(() => connection.reset());
    });
    const first = rawClient(listener.port);
    const second = rawClient(listener.port);
    await Promise.all([nextEvent(first, 'connect'), nextEvent(second, 'connect')]);
    await vi.waitFor(() => expect(handedOut.length).toBe(2));
    const serverSideOf = (client: net.Socket) => handedOut.find((c) => c.remotePort === client.localPort);
    listener.release(serverSideOf(second) as FramedConnection); // the peer behind it authenticated
    const third = rawClient(listener.port);
    await nextEvent(third, 'connect');
    await vi.waitFor(() => expect(handedOut.length).toBe(3));
    expect(listener.pendingConnections).toBe(2);
    const fourth = rawClient(listener.port);
    // at the cap: the oldest unreleased (first) goes, the released one (second) and the newest stay
    await Promise.all([nextEvent(first, 'close'), nextEvent(fourth, 'connect')]);
    await vi.waitFor(() => expect(handedOut.length).toBe(4));
    expect(listener.pendingConnections).toBe(2);
    expect(second.destroyed).toBe(false);

    const closed = nextEvent(serverSideOf(third) as FramedConnection, 'close');
    third.resetAndDestroy();
    await closed;
    expect(listener.pendingConnections).toBe(1);
  });

  it('resets a connection that is not released within pendingDeadlineMs', async () => {
    const listener = await listen({ address: '127.0.0.1', pendingDeadlineMs: 50 });
    listener.on('connection', (connection) => cleanups.push(() => connection.reset()));
    const client = rawClient(listener.port);
    await nextEvent(client, 'connect');
    await nextEvent(client, 'close');
    expect(listener.pendingConnections).toBe(0);
  });

  it('takes the first free port of portRange and fails with EADDRINUSE when none is free', async () => {
    // Find three consecutive free ports, keep the first two busy, leave the third free.
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = 20_000 + Math.floor(Math.random() * 30_000);
      const blockers: net.Server[] = [];
      try {
        for (const port of [base, base + 1]) {
          const blocker = net.createServer();
          await new Promise<void>((resolve, reject) => {
            blocker.once('error', reject);
            blocker.listen({ host: '127.0.0.1', port }, resolve);
          });
          blockers.push(blocker);
        }
      } catch {
        for (const blocker of blockers) blocker.close();
        continue;
      }
      try {
        const busy = PassiveListener.listen({
          address: '127.0.0.1',
          portRange: { min: base, max: base + 1 },
        });
        await expect(busy).rejects.toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'EADDRINUSE' });
        const fixed = PassiveListener.listen({ address: '127.0.0.1', port: base });
        await expect(fixed).rejects.toBeInstanceOf(SocketError);
        const listener = await PassiveListener.listen({
          address: '127.0.0.1',
          portRange: { min: base, max: base + 2 },
        }).catch(() => undefined);
        if (listener === undefined) continue; // base + 2 was taken by someone else: try elsewhere
        listener.close();
        expect(listener.port).toBe(base + 2);
        return;
      } finally {
        for (const blocker of blockers) blocker.close();
      }
    }
    throw new Error('no three consecutive free ports found');
  });

  it('rejects a hostname, a bad range and a bad cap', async () => {
    await expect(PassiveListener.listen({ address: 'localhost' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      PassiveListener.listen({ address: '127.0.0.1', portRange: { min: 10, max: 5 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      PassiveListener.listen({ address: '127.0.0.1', maxPendingConnections: -1 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('stops accepting after close()', async () => {
    const listener = await PassiveListener.listen({ address: '127.0.0.1' });
    listener.close();
    const server = await plainServer();
    cleanups.push(() => server.close());
    expect(portOf(server)).not.toBe(0);
    const socket = rawClient(listener.port);
    const [error] = await nextEvent<[NodeJS.ErrnoException]>(socket, 'error');
    expect(error.code).toBe('ECONNREFUSED');
  });
});
