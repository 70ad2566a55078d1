import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { CliPeers, exchangeLines } from '../support/line-peer.js';
import { runCli } from './run-cli.js';

const peers = new CliPeers();
const dirs: string[] = [];
afterEach(() => {
  peers.killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ice-tcp connect and demo: the reported defects', () => {
  it('a --send-bytes sender whose peer answers with more bytes exits 0; --echo counts what it echoed', async () => {
    // before: ERR_CRYPTO_HASH_FINALIZED (hash updated after digest), exit 1; the echo reported sentBytes 0
    const n = 3 * 1024 * 1024;
    const sender = peers.spawn([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--send-bytes',
      String(n),
      // hashing on: the crash was the hash updated by the late bytes after its digest
      '--sha256',
    ]);
    const echo = peers.spawn(['connect', '--controlled', '--bind', '127.0.0.1', '--echo', '--sha256']);
    await exchangeLines(sender, echo);
    const echoed = await echo.waitFor('done');
    expect(await sender.exited()).toBe(0);
    expect(sender.stderr).not.toMatch(/ERR_CRYPTO/);
    expect((await sender.waitFor('done')).sentBytes).toBe(n);
    expect(echoed.receivedBytes).toBe(n);
    expect(echoed.sha256Received).toBe(patternSha256(n));
    expect(echoed.sentBytes).toBe(n);
    expect(await echo.exited()).toBe(0);
  });

  it('--remote FILE waits for a file that does not exist yet', async () => {
    // before: an unhandled ENOENT at once, exit 1
    const dir = mkdtempSync(join(tmpdir(), 'ice-tcp-remote-'));
    dirs.push(dir);
    const n = 65536;
    const a = peers.spawn([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--remote',
      join(dir, 'b.txt'),
      '--send-bytes',
      String(n),
    ]);
    const b = peers.spawn([
      'connect',
      '--controlled',
      '--bind',
      '127.0.0.1',
      '--remote',
      join(dir, 'a.txt'),
      '--expect-bytes',
      String(n),
      '--sha256',
    ]);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.child.exitCode).toBeNull();
    writeFileSync(join(dir, 'a.txt'), `${la.join('\n')}\n\n`);
    writeFileSync(join(dir, 'b.txt'), `${lb.join('\n')}\n\n`);
    const received = await b.waitFor('done');
    expect(received.sha256Received).toBe(patternSha256(n));
    expect(await a.exited()).toBe(0);
    expect(await b.exited()).toBe(0);
  });

  it('demo --bytes 0 finishes', async () => {
    // before: transfer() never resolved when both counts were 0
    const r = await runCli(['demo', '--bytes', '0', '--json'], { ms: 20_000 });
    expect(r).not.toBe('hung');
    if (r === 'hung') return;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) as string)).toMatchObject({ ok: true });
  });
});
