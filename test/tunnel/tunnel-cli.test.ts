import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliPeers, exchangeLines } from '../support/line-peer.js';
import { fetchOnce, fetchParallel, startDownloadServer } from './download.js';

const peers = new CliPeers();
let service: net.Server | undefined;
afterEach(() => {
  peers.killAll();
  service?.close();
  service = undefined;
});

describe('ice-tcp tunnel on loopback', () => {
  it('20 parallel TCP connections through serve/connect, SHA-256 equal; the tunnel ends when one side does', async () => {
    service = await startDownloadServer('127.0.0.1');
    const port = (service.address() as net.AddressInfo).port;
    const serve = peers.spawn(['tunnel', 'serve', '--forward', `127.0.0.1:${port}`, '--bind', '127.0.0.1']);
    const client = peers.spawn(['tunnel', 'connect', '--listen', '127.0.0.1:0', '--bind', '127.0.0.1']);
    await exchangeLines(serve, client);
    await serve.waitFor('connected');
    const listening = await client.waitFor('listening');
    const result = await fetchParallel('127.0.0.1', listening.port as number, 20, 40 * 1024 * 1024);
    expect(result.ok).toBe(20);
    // a second round on the same tunnel: streams are not one-shot
    expect((await fetchParallel('127.0.0.1', listening.port as number, 5, 1024 * 1024)).ok).toBe(5);
    client.child.kill('SIGTERM');
    expect(await client.exited()).toBe(0);
    await serve.waitFor('closed');
    expect(await serve.exited()).toBe(0);
  });

  it('a stream whose service refuses is reset; the tunnel carries on', async () => {
    service = await startDownloadServer('127.0.0.1');
    const port = (service.address() as net.AddressInfo).port;
    const serve = peers.spawn(['tunnel', 'serve', '--forward', `127.0.0.1:${port}`, '--bind', '127.0.0.1']);
    const client = peers.spawn(['tunnel', 'connect', '--listen', '127.0.0.1:0', '--bind', '127.0.0.1']);
    await exchangeLines(serve, client);
    const listening = await client.waitFor('listening');
    service.close();
    await expect(fetchOnce('127.0.0.1', listening.port as number, 10, 'x')).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    service = await startDownloadServer('127.0.0.1', port);
    expect((await fetchParallel('127.0.0.1', listening.port as number, 3, 300_000)).ok).toBe(3);
  });
});

describe('ice-tcp tunnel connect failures', () => {
  it('a --listen address in use is a typed error before any a= line, exit 1', async () => {
    service = await startDownloadServer('127.0.0.1');
    const busy = (service.address() as net.AddressInfo).port;
    const client = peers.spawn(['tunnel', 'connect', '--listen', `127.0.0.1:${busy}`, '--bind', '127.0.0.1']);
    const reported = await client.waitFor('listening').then(
      () => 'listening',
      (e: Error) => e.message,
    );
    expect(reported).toMatch(/"code":"ERR_SOCKET".*EADDRINUSE/);
    expect(reported).not.toMatch(/ice-ufrag/);
    expect(await client.exited()).toBe(1);
  });
});
