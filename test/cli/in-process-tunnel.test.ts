import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedSha256, fetchOnce, fetchParallel, startDownloadServer } from '../tunnel/download.js';
import { exchangeRunLines, InProcessRuns } from './in-process.js';

// `ice-tcp tunnel serve` and `tunnel connect` in this process (the binary's own test: test/tunnel/tunnel-cli.test.ts).
const runs = new InProcessRuns();
let service: net.Server | undefined;
afterEach(async () => {
  await runs.settle();
  service?.close();
  service = undefined;
});

const tunnel = (side: 'serve' | 'connect', args: string[]) =>
  runs.start(['tunnel', side, '--bind', '127.0.0.1', '--timeout', '20', ...args]);

/** A port nothing listens on right now (the tunnel must listen on a known port before it reports it). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('ice-tcp tunnel in process', () => {
  it('carries parallel connections, one accepted before the tunnel was up; stopping one side ends both', async () => {
    service = await startDownloadServer('127.0.0.1');
    const target = (service.address() as net.AddressInfo).port;
    const listen = await freePort();
    const serve = tunnel('serve', ['--forward', `127.0.0.1:${target}`]);
    const client = tunnel('connect', ['--listen', `127.0.0.1:${listen}`]);
    const [, lc] = await Promise.all([serve.localLines(), client.localLines()]);
    expect(lc.at(-1)).toBe('a=end-of-candidates');
    // tunnel connect listens before it signals: this connection waits, paused, for the tunnel
    const early = fetchOnce('127.0.0.1', listen, 100_000, 'early');
    await exchangeRunLines(serve, client);
    expect(await client.waitFor('listening')).toMatchObject({ address: '127.0.0.1', port: listen });
    expect((await serve.waitFor('connected')).local).toMatchObject({ type: 'host', address: '127.0.0.1' });
    expect((await early).sha256).toBe(expectedSha256('early', 100_000));
    expect((await fetchParallel('127.0.0.1', listen, 4, 4 * 256 * 1024)).ok).toBe(4);
    expect(serve.stderr).toMatch(/^ice-tcp: connected: host/m);

    client.stop();
    expect(await client.done).toBe(0);
    expect(client.events().at(-1)).toEqual({ event: 'closed' });
    expect(await serve.done).toBe(0);
    expect(serve.events().at(-1)).toEqual({ event: 'closed' });
  });

  it('a stream whose service refuses is reset; the tunnel carries on', async () => {
    service = await startDownloadServer('127.0.0.1');
    const target = (service.address() as net.AddressInfo).port;
    const serve = tunnel('serve', ['--forward', `127.0.0.1:${target}`, '--json']);
    const client = tunnel('connect', ['--listen', '127.0.0.1:0', '--json']);
    await exchangeRunLines(serve, client);
    const { port } = (await client.waitFor('listening')) as { port: number };
    await new Promise((resolve) => service?.close(resolve));
    await expect(fetchOnce('127.0.0.1', port, 10, 'x')).rejects.toMatchObject({ code: 'ECONNRESET' });
    service = await startDownloadServer('127.0.0.1', target);
    expect((await fetchParallel('127.0.0.1', port, 2, 100_000)).ok).toBe(2);
    // --json: nothing but JSON lines after the a= lines, stderr quiet
    expect(serve.stderr).toBe('');
  });

  it('a --listen address in use: a typed error before any a= line, exit 1', async () => {
    service = await startDownloadServer('127.0.0.1');
    const busy = (service.address() as net.AddressInfo).port;
    const client = tunnel('connect', ['--listen', `127.0.0.1:${busy}`]);
    expect(await client.done).toBe(1);
    expect(client.stdout).not.toMatch(/ice-ufrag/);
    expect(client.events()).toEqual([
      { event: 'error', code: 'ERR_SOCKET', message: expect.stringMatching(/EADDRINUSE/) },
    ]);
  });
});
