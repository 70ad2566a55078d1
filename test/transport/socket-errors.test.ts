import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { discardSocket } from '../../src/transport/socket-errors.js';
import { nextEvent, socketPair } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const openFds = () => readdirSync('/proc/self/fd').length;

describe('discardSocket', () => {
  // Node 20: resetAndDestroy() while the shutdown of an end() in the same tick is not issued yet never closes the
  // handle: no 'close', and the descriptor stays open for the life of the process (the hostile fuzz bench's
  // leftover socket fds with no TCP connection behind them)
  it('closes a socket whose end() is still in flight, and releases its descriptor', async () => {
    const pairs = await Promise.all(Array.from({ length: 20 }, () => socketPair()));
    for (const pair of pairs) {
      cleanups.push(() => pair.close());
      pair.client.on('error', () => {});
    }
    const before = openFds();
    const closed = pairs.map((pair) => nextEvent(pair.server, 'close'));
    for (const { server } of pairs) {
      server.write(Buffer.alloc(10));
      server.end();
      discardSocket(server);
    }
    const settled = await Promise.race([
      Promise.all(closed).then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open after 2 s'), 2000)),
    ]);
    expect(settled).toBe('closed');
    expect(openFds()).toBeLessThanOrEqual(before - pairs.length);
  });

  it('resets a connected socket: the peer sees ECONNRESET', async () => {
    const { client, server, close } = await socketPair();
    cleanups.push(close);
    const peerError = nextEvent<[NodeJS.ErrnoException]>(client, 'error');
    discardSocket(server);
    expect((await peerError)[0].code).toBe('ECONNRESET');
  });
});
