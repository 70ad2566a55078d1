import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, type SocketError } from '../../src/errors.js';
import { type FramedConnection, SimultaneousOpenPort } from '../../src/transport/index.js';
import {
  blockUntilEstablished,
  closedPort,
  kernelSockets,
  nextEvent,
  plainServer,
  portOf,
  stalledPort,
} from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function openPort(acceptInbound = true): Promise<SimultaneousOpenPort> {
  const port = await SimultaneousOpenPort.open({ address: '127.0.0.1', acceptInbound });
  cleanups.push(() => port.close());
  return port;
}

function keep(connection: FramedConnection): FramedConnection {
  cleanups.push(() => connection.reset());
  return connection;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('SimultaneousOpenPort on loopback', () => {
  it('holds no listener after open(): a SYN to the port is refused', async () => {
    const so = await openPort();
    expect(so.listening).toBe(false);
    const probe = net.connect({ host: '127.0.0.1', port: so.port, autoSelectFamily: false });
    const [error] = await nextEvent<[NodeJS.ErrnoException]>(probe, 'error');
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('dials a plain listener from its own port; several dials share the port', async () => {
    const so = await openPort();
    const servers = await Promise.all([plainServer(), plainServer()]);
    for (const server of servers) cleanups.push(() => server.close());
    const connections = await Promise.all(
      servers.map((server) =>
        so.dial({ remoteAddress: '127.0.0.1', remotePort: portOf(server), timeoutMs: 2000 }),
      ),
    );
    for (const connection of connections) keep(connection);
    expect(connections.map((c) => c.localPort)).toEqual([so.port, so.port]);
    expect(connections.map((c) => c.remotePort)).toEqual(servers.map(portOf));
    // once the last dial is done the listener drains its accept queue, then goes
    await until(() => !so.listening);
  });

  it('two S-O ports with acceptInbound dialling each other meet on one connection', async () => {
    const [a, b] = await Promise.all([openPort(), openPort()]);
    const [atA, atB] = await Promise.all([
      a.dial({ remoteAddress: '127.0.0.1', remotePort: b.port, timeoutMs: 3000 }),
      b.dial({ remoteAddress: '127.0.0.1', remotePort: a.port, timeoutMs: 3000 }),
    ]);
    keep(atA);
    keep(atB);
    expect([atA.localPort, atA.remotePort]).toEqual([a.port, b.port]);
    expect([atB.localPort, atB.remotePort]).toEqual([b.port, a.port]);
    const frame = nextEvent<[Buffer]>(atB, 'frame');
    atA.sendFrame(Buffer.from('hello'));
    expect((await frame)[0].toString()).toBe('hello');
    await until(() => !(a.listening || b.listening));
  });

  it('two S-O ports without acceptInbound: measured, not asserted (RSTs cross, SYNs rarely do)', async () => {
    const [a, b] = await Promise.all([openPort(false), openPort(false)]);
    const results = await Promise.allSettled([
      a.dial({ remoteAddress: '127.0.0.1', remotePort: b.port, timeoutMs: 500 }),
      b.dial({ remoteAddress: '127.0.0.1', remotePort: a.port, timeoutMs: 500 }),
    ]);
    for (const result of results) {
      if (result.status === 'fulfilled') keep(result.value);
      else expect((result.reason as SocketError).syscallCode).toMatch(/^(ECONNREFUSED|ETIMEDOUT)$/);
    }
    console.info(
      `S-O loopback without acceptInbound, one process: ${results.map((r) => r.status).join(', ')}`,
    );
  });

  it('emits an inbound connection that answers no pending dial, while a dial keeps the listener up', async () => {
    const so = await openPort();
    const controller = new AbortController();
    const pending = so.dial({
      remoteAddress: '127.0.0.1',
      remotePort: await closedPort(),
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    await until(() => so.listening);
    const emitted = nextEvent<[FramedConnection]>(so, 'connection');
    const stranger = net.connect({ host: '127.0.0.1', port: so.port, autoSelectFamily: false });
    cleanups.push(() => stranger.destroy());
    const [connection] = await emitted;
    keep(connection);
    expect(connection.remotePort).toBe(stranger.localPort);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await until(() => !so.listening);
  });

  // The lab's full-cone cell lost runs this way: the peer's SYN met our listener during a dial that then failed
  // (ENETUNREACH to the peer's private address); closing the listener at once reset the handshake the kernel
  // had completed, and the NATs' conntrack entries left in CLOSE then refused our own SYN to that peer.
  it('a handshake completed on the listener as the last dial ends is emitted, not reset', async () => {
    const so = await openPort();
    const controller = new AbortController();
    const pending = so.dial({
      remoteAddress: '127.0.0.1',
      remotePort: await closedPort(),
      timeoutMs: 10_000,
      retryDelayMs: 10_000,
      signal: controller.signal,
    });
    pending.catch(() => {});
    await until(() => so.listening);
    const emitted = nextEvent<[FramedConnection]>(so, 'connection');
    const peer = net.connect({ host: '127.0.0.1', port: so.port, autoSelectFamily: false });
    cleanups.push(() => peer.destroy());
    await nextEvent(peer, 'connectionAttempt');
    // the dial ends before libuv has polled the listener: its accept queue holds the handshake
    blockUntilEstablished(so.port);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    const outcome = await Promise.race([
      emitted.then(([connection]) => keep(connection)),
      nextEvent<[NodeJS.ErrnoException]>(peer, 'error').then(([error]) => `peer: ${error.code}`),
    ]);
    expect(typeof outcome === 'string' ? outcome : 'emitted').toBe('emitted');
    expect(typeof outcome !== 'string' && outcome.remotePort).toBe(peer.localPort);
    await until(() => !so.listening);
  });

  it('an inbound SYN from the dialled remote answers the dial (the peer dialled our listener first)', async () => {
    const so = await openPort();
    const remote = await SimultaneousOpenPort.open({ address: '127.0.0.1', acceptInbound: false });
    cleanups.push(() => remote.close());
    const dial = so.dial({
      remoteAddress: '127.0.0.1',
      remotePort: remote.port,
      timeoutMs: 5000,
      retryDelayMs: 1000,
    });
    await until(() => so.listening);
    // `remote` never listens: its SYN can only meet our listener, and must be handed to the pending dial.
    const [ours, theirs] = await Promise.all([
      dial,
      remote.dial({ remoteAddress: '127.0.0.1', remotePort: so.port, timeoutMs: 2000 }),
    ]);
    keep(ours);
    keep(theirs);
    expect([ours.localPort, ours.remotePort]).toEqual([so.port, remote.port]);
    expect(so.pendingConnections).toBe(0);
  });

  it('gives up after timeoutMs with the last refusal, and on close() or abort', async () => {
    const so = await openPort();
    const refused = so.dial({ remoteAddress: '127.0.0.1', remotePort: await closedPort(), timeoutMs: 200 });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'ECONNREFUSED' });
    const aborted = so.dial({
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      timeoutMs: 5000,
      signal: AbortSignal.abort(),
    });
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const closing = so.dial({ remoteAddress: '127.0.0.1', remotePort: await closedPort(), timeoutMs: 5000 });
    so.close();
    await expect(closing).rejects.toBeInstanceOf(ClosedError);
    await expect(
      so.dial({ remoteAddress: '127.0.0.1', remotePort: 1, timeoutMs: 10 }),
    ).rejects.toBeInstanceOf(ClosedError);
  });

  it('re-SYNs from the same port while unanswered, keeping one SYN_SENT socket, and leaves none behind', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const so = await openPort(false);
    const fromPort = async () =>
      (await kernelSockets())
        .filter((s) => s.localPort === so.port && s.remotePort === stalled.port)
        .map((s) => s.state);
    const dial = so.dial({
      remoteAddress: '127.0.0.1',
      remotePort: stalled.port,
      timeoutMs: 400,
      resynIntervalMs: 50,
    });
    const seen: string[][] = [];
    const watching = (async () => {
      for (let i = 0; i < 20; i++) {
        seen.push(await fromPort());
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    await expect(dial).rejects.toMatchObject({ syscallCode: 'ETIMEDOUT' });
    await watching;
    expect(seen.every((states) => states.length <= 1)).toBe(true);
    expect(seen.some((states) => states.includes('SYN_SENT'))).toBe(true);
    expect(await fromPort()).toEqual([]);
  });

  it('fails with EADDRINUSE when the whole portRange is taken', async () => {
    const blocker = await plainServer();
    cleanups.push(() => blocker.close());
    const port = portOf(blocker);
    await expect(
      SimultaneousOpenPort.open({ address: '127.0.0.1', portRange: { min: port, max: port } }),
    ).rejects.toMatchObject({
      code: 'ERR_SOCKET',
      syscallCode: 'EADDRINUSE',
    });
  });
});
