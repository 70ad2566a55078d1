import { afterEach, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { CliPeers, exchangeLines } from '../support/line-peer.js';

const peers = new CliPeers();
afterEach(() => peers.killAll());
const cli = (args: string[]) => peers.spawn(args);

describe('ice-tcp connect: two processes over pipes', () => {
  it('connects, moves 4 MB each way and reports JSON lines', async () => {
    const n = 4 * 1024 * 1024;
    const bytes = ['--send-bytes', String(n), '--expect-bytes', String(n), '--sha256'];
    const a = cli(['connect', '--controlling', '--bind', '127.0.0.1', ...bytes]);
    const b = cli(['connect', '--controlled', '--bind', '127.0.0.1', ...bytes]);
    const [la] = await Promise.all([a.localLines(), b.localLines()]);
    expect(la[0]).toMatch(/^a=ice-ufrag:[A-Za-z0-9+/]{4,}$/);
    expect(la[1]).toMatch(/^a=ice-pwd:[A-Za-z0-9+/]{22,}$/);
    expect(la.some((l) => / typ host tcptype passive$/.test(l))).toBe(true);
    expect(la.at(-1)).toBe('a=end-of-candidates');
    await exchangeLines(a, b);
    const [ea, eb] = await Promise.all([a.waitFor('connected'), b.waitFor('connected')]);
    expect(ea.local).toMatchObject({ type: 'host', address: '127.0.0.1' });
    expect(typeof ea.elapsedMs).toBe('number');
    expect((eb.remote as { port: number }).port).toBeGreaterThan(0);
    const [da, db] = await Promise.all([a.waitFor('done'), b.waitFor('done')]);
    expect(da.sha256Received).toBe(patternSha256(n));
    expect(db.sha256Received).toBe(patternSha256(n));
    expect(await a.exited()).toBe(0);
    expect(await b.exited()).toBe(0);
  });

  it('fails with a one-line JSON error and a non-zero exit when the peer never answers', async () => {
    const a = cli(['connect', '--controlling', '--bind', '127.0.0.1', '--timeout', '1']);
    await a.localLines();
    a.writeRemote(['a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=end-of-candidates']);
    await expect(a.waitFor('connected', 10_000)).rejects.toThrow(/ERR_ICE_(FAILED|TIMEOUT)/);
    expect(await a.exited()).not.toBe(0);
  });

  it('rejects bad arguments with exit code 2', async () => {
    const a = cli(['connect', '--controlling', '--controlled']);
    expect(await a.exited()).toBe(2);
  });
});
