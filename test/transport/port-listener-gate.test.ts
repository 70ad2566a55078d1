import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PortListenerGate } from '../../src/transport/port-listener-gate.js';
import { blockUntilEstablished, closedPort, nextEvent } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('PortListenerGate', () => {
  // The lab's RST ping-pong lost trials this way: the peer's SYN met our listener between two of our SYNs, the
  // kernel completed the handshake, and the next bind closed the listener before libuv accepted it: the
  // queued connection was reset (and the NATs' conntrack entries with it).
  it('lets the listener accept a handshake the kernel completed before a bind closes it', async () => {
    const port = await closedPort();
    let accept: (socket: net.Socket) => void = () => {};
    const accepted = new Promise<net.Socket>((resolve) => {
      accept = resolve;
    });
    const gate = new PortListenerGate('127.0.0.1', port, (socket) => {
      socket.on('error', () => {});
      cleanups.push(() => socket.destroy());
      accept(socket);
    });
    cleanups.push(() => gate.setWanted(false));
    gate.setWanted(true);
    await gate.beforeBind(); // waits for the listener being started, then takes it down for a "bind"
    gate.afterBind();
    while (!gate.listening) await new Promise((resolve) => setImmediate(resolve));

    const client = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
    cleanups.push(() => client.destroy());
    // 'connectionAttempt' comes just before the connect() call: a tick later the kernel has the handshake, and
    // the next bind starts before libuv has polled the listener
    const bind = new Promise<Promise<void>>((resolve) => {
      client.once('connectionAttempt', () =>
        process.nextTick(() => {
          blockUntilEstablished(port);
          resolve(gate.beforeBind());
        }),
      );
    });
    await await bind;
    gate.afterBind();
    const outcome = await Promise.race([
      accepted.then(() => 'accepted'),
      nextEvent<[NodeJS.ErrnoException]>(client, 'error').then(([error]) => `client: ${error.code}`),
    ]);
    expect(outcome).toBe('accepted');
    const server = await accepted;
    server.write('alive');
    const [data] = await nextEvent<[Buffer]>(client, 'data');
    expect(data.toString()).toBe('alive');
  });
});
