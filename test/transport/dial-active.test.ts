import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, InvalidArgumentError, SocketError } from '../../src/errors.js';
import { dialActive } from '../../src/transport/index.js';
import { closedPort, kernelSockets, plainServer, portOf, stalledPort } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const base = { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' };

describe('dialActive', () => {
  it('connects from an ephemeral port with Nagle off', async () => {
    const server = await plainServer((socket) => socket.on('error', () => {}));
    cleanups.push(() => server.close());
    const connection = await dialActive({ ...base, remotePort: portOf(server), timeoutMs: 2000 });
    cleanups.push(() => connection.reset());
    expect(connection.remotePort).toBe(portOf(server));
    expect(connection.localAddress).toBe('127.0.0.1');
    expect(connection.localPort).not.toBe(9);
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const dial = dialActive({ ...base, remotePort: await closedPort(), timeoutMs: 2000 });
    await expect(dial).rejects.toBeInstanceOf(SocketError);
    await expect(dial).rejects.toMatchObject({ syscallCode: 'ECONNREFUSED' });
  });

  it('fails with ETIMEDOUT when the SYN goes unanswered', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const dial = dialActive({ ...base, remotePort: stalled.port, timeoutMs: 300 });
    await expect(dial).rejects.toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'ETIMEDOUT' });
  });

  it('fails with AbortedError when aborted while connecting, or aborted before', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const controller = new AbortController();
    const dial = dialActive({
      ...base,
      remotePort: stalled.port,
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(dial).rejects.toBeInstanceOf(AbortedError);
    const early = dialActive({
      ...base,
      remotePort: stalled.port,
      timeoutMs: 10_000,
      signal: AbortSignal.abort(),
    });
    await expect(early).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('rejects a hostname and a non-positive timeout', async () => {
    await expect(
      dialActive({ ...base, remoteAddress: 'example.org', remotePort: 1, timeoutMs: 10 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(dialActive({ ...base, remotePort: 1, timeoutMs: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('leaves no socket behind after a timeout or an abort', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const synSent = async () =>
      (await kernelSockets()).filter((s) => s.remotePort === stalled.port && s.state === 'SYN_SENT').length;
    const before = await synSent();
    const controller = new AbortController();
    const dials = [
      dialActive({ ...base, remotePort: stalled.port, timeoutMs: 200 }),
      dialActive({ ...base, remotePort: stalled.port, timeoutMs: 10_000, signal: controller.signal }),
    ];
    expect(await synSent()).toBe(before + 2);
    controller.abort();
    await Promise.allSettled(dials);
    expect(await synSent()).toBe(before);
  });
});
