import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { exchangeRunLines, InProcessRuns } from './in-process.js';

// `ice-tcp connect` run in this process (the binary's own tests: connect*.test.ts, bridge.test.ts). Every run
// has a short --timeout, so that one whose peer never comes still ends within the test.
const runs = new InProcessRuns();
const dirs: string[] = [];
afterEach(async () => {
  await runs.settle();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const connect = (args: string[]) =>
  runs.start(['connect', '--bind', '127.0.0.1', '--timeout', '20', ...args]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ice-tcp connect in process: test bytes', () => {
  it('prints a= lines, connects, moves 1 MB each way and reports JSON lines, exit 0', async () => {
    const n = 1024 * 1024;
    const bytes = ['--send-bytes', String(n), '--expect-bytes', String(n), '--sha256'];
    const a = connect(['--controlling', ...bytes]);
    const b = connect(['--controlled', ...bytes]);
    const la = await a.localLines();
    expect(la[0]).toMatch(/^a=ice-ufrag:[A-Za-z0-9+/]{4,}$/);
    expect(la[1]).toMatch(/^a=ice-pwd:[A-Za-z0-9+/]{22,}$/);
    expect(la.at(-1)).toBe('a=end-of-candidates');
    await exchangeRunLines(a, b);
    const connected = await a.waitFor('connected');
    await b.waitFor('connected');
    const connectedAt = performance.now();
    expect(connected.local).toMatchObject({ type: 'host', address: '127.0.0.1' });
    expect(typeof connected.elapsedMs).toBe('number');
    const [da, db] = await Promise.all([a.waitFor('done'), b.waitFor('done')]);
    // Both send, so neither may wait for the other's FIN before its own (that deadlock lasts the whole 5 s
    // wait): what 'done' takes beyond the transfer itself is the FIN exchange, milliseconds on loopback.
    const transferSeconds = Math.max(Number(da.seconds), Number(db.seconds));
    expect((performance.now() - connectedAt) / 1000 - transferSeconds).toBeLessThan(4);
    expect(da).toMatchObject({ sentBytes: n, receivedBytes: n, sha256Received: patternSha256(n) });
    expect(db).toMatchObject({ sentBytes: n, receivedBytes: n, sha256Received: patternSha256(n) });
    expect(da.megabytesPerSecond).toBeGreaterThanOrEqual(0);
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
  });

  it('--echo writes back what a --send-bytes sender sends and counts it as sent', async () => {
    const n = 256 * 1024;
    const sender = connect(['--controlling', '--send-bytes', String(n)]);
    const echo = connect(['--controlled', '--echo', '--sha256']);
    await exchangeRunLines(sender, echo);
    const echoed = await echo.waitFor('done');
    expect(echoed).toMatchObject({ sentBytes: n, receivedBytes: n, sha256Received: patternSha256(n) });
    expect((await sender.waitFor('done')).sentBytes).toBe(n);
    expect(await Promise.all([sender.done, echo.done])).toEqual([0, 0]);
  });

  it('--remote FILE: waits for the file to appear, then reads the peer from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ice-tcp-remote-'));
    dirs.push(dir);
    const n = 65536;
    const a = connect(['--controlling', '--remote', join(dir, 'b.txt'), '--send-bytes', String(n)]);
    const b = connect([
      '--controlled',
      '--remote',
      join(dir, 'a.txt'),
      '--expect-bytes',
      String(n),
      '--sha256',
    ]);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    // the files appear only now: both runs have been waiting for them
    writeFileSync(join(dir, 'a.txt'), `${la.join('\n')}\n\n`);
    writeFileSync(join(dir, 'b.txt'), `${lb.join('\n')}\n\n`);
    expect((await b.waitFor('done')).sha256Received).toBe(patternSha256(n));
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
  });

  it('a peer that never answers: one JSON error line, exit 1', async () => {
    const a = runs.start([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--timeout',
      '1',
      '--send-bytes',
      '1',
    ]);
    await a.localLines();
    a.writeRemote(['a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=end-of-candidates']);
    await expect(a.waitFor('connected', 15_000)).rejects.toThrow(/ERR_ICE_(FAILED|TIMEOUT)/);
    expect(await a.done).toBe(1);
  });

  it('a receiver whose peer ends early: ERR_CLOSED naming the counts, exit 1; the sender exits 0', async () => {
    const n = 64 * 1024;
    const sender = connect(['--controlling', '--send-bytes', String(n)]);
    const receiver = connect(['--controlled', '--expect-bytes', String(2 * n)]);
    await exchangeRunLines(sender, receiver);
    await expect(receiver.waitFor('done')).rejects.toThrow(
      /"code":"ERR_CLOSED".*after 65536 of 131072 bytes/,
    );
    expect(await Promise.all([sender.done, receiver.done])).toEqual([0, 1]);
  });

  it('a remote line that does not parse is a warning on stderr, not a failure', async () => {
    const a = connect(['--controlling', '--send-bytes', '1']);
    const b = connect(['--controlled', '--expect-bytes', '1']);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    a.writeRemote(['a=candidate:this is not a candidate', ...lb]);
    b.writeRemote(la);
    expect((await b.waitFor('done')).receivedBytes).toBe(1);
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
    expect(a.stderr).toMatch(/^ice-tcp: (ignored remote line|warning): .*candidate/m);
  });
});

describe('ice-tcp connect in process: without transfer flags, a stdin/stdout bridge', () => {
  it('carries both directions, keeps data pasted right after the blank line, reports on stderr', async () => {
    const a = connect(['--controlling']);
    const b = connect(['--controlled']);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    const fromA = randomBytes(512 * 1024);
    const fromB = Buffer.from('hello from b\n');
    a.stdin.end(Buffer.concat([Buffer.from(`${lb.join('\n')}\n\n`), fromA]));
    b.stdin.end(Buffer.concat([Buffer.from(`${la.join('\n')}\n\n`), fromB]));
    expect(await Promise.all([a.done, b.done]), `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    expect(sha(b.data())).toBe(sha(fromA));
    expect(a.data().toString()).toBe('hello from b\n');
    expect(a.stderr).toMatch(/^ice-tcp: connected: host \w+ 127\.0\.0\.1:\d+ -> host/m);
    expect(a.stderr).toMatch(/^ice-tcp: done: 524288 bytes sent, 13 received$/m);
  });

  it('with --json the reports on stderr are JSON lines; a failure is one of them', async () => {
    const a = connect(['--controlling', '--json']);
    const b = connect(['--controlled', '--json']);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    a.stdin.end(Buffer.from(`${lb.join('\n')}\n\nx`));
    b.stdin.end(Buffer.from(`${la.join('\n')}\n\n`));
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);
    const events = a.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['connected', 'done']);
    expect(events[1]).toMatchObject({ sentBytes: 1, receivedBytes: 0 });
    expect(b.data().toString()).toBe('x');

    const lonely = runs.start(['connect', '--bind', '127.0.0.1', '--timeout', '1', '--json']);
    await lonely.localLines();
    lonely.stdin.end('a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\na=end-of-candidates\n\n');
    expect(await lonely.done).toBe(1);
    expect(JSON.parse(lonely.stderr)).toMatchObject({
      event: 'error',
      code: expect.stringMatching(/^ERR_ICE_/),
    });
  });

  it('without --json a failure is one plain line on stderr', async () => {
    const lonely = runs.start(['connect', '--bind', '127.0.0.1', '--timeout', '1']);
    await lonely.localLines();
    lonely.stdin.end('a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\na=end-of-candidates\n\n');
    expect(await lonely.done).toBe(1);
    expect(lonely.stderr).toMatch(/^ice-tcp: ERR_ICE_\w+: .+\n$/);
  });
});
