import { afterEach, describe, expect, it } from 'vitest';
import { CliPeers, exchangeLines } from '../support/line-peer.js';

const peers = new CliPeers();
afterEach(() => peers.killAll());

describe('ice-tcp connect: the peer process dies mid-transfer', () => {
  it('the sender exits non-zero with a typed JSON error when the receiver is killed with SIGKILL', async () => {
    const huge = String(64 * 1024 * 1024 * 1024);
    const sender = peers.spawn(['connect', '--controlling', '--bind', '127.0.0.1', '--send-bytes', huge]);
    const receiver = peers.spawn(['connect', '--controlled', '--bind', '127.0.0.1', '--expect-bytes', huge]);
    await exchangeLines(sender, receiver);
    await Promise.all([sender.waitFor('connected'), receiver.waitFor('connected')]);
    // let the transfer fill every buffer on the way, so the sender waits for 'drain' when the peer dies
    await new Promise((resolve) => setTimeout(resolve, 500));
    receiver.kill();
    const error = await sender.waitFor('error', 15_000);
    expect(error.code).toMatch(/^ERR_(SOCKET|CLOSED)$/);
    expect(await sender.exited()).toBe(1);
  });

  it('a receiver whose peer ends early exits non-zero with ERR_CLOSED, not an untyped error', async () => {
    const n = 1024 * 1024;
    const sender = peers.spawn([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--send-bytes',
      String(n),
    ]);
    const receiver = peers.spawn([
      'connect',
      '--controlled',
      '--bind',
      '127.0.0.1',
      '--expect-bytes',
      String(2 * n),
    ]);
    await exchangeLines(sender, receiver);
    const error = await receiver.waitFor('error', 15_000);
    expect(error.code).toBe('ERR_CLOSED');
    expect(error.message).toMatch(/after 1048576 of 2097152 bytes/);
    expect(await receiver.exited()).toBe(1);
    expect(await sender.exited()).toBe(0);
  });
});
