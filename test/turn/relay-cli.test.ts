import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { CliPeers, exchangeLines } from '../support/line-peer.js';
import { hasCommand, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip(
  'ice-tcp connect --turn against coturn',
  hasCommand('turnserver') ? [] : ['turnserver'],
);

const peers = new CliPeers();
afterEach(() => peers.killAll());
const cli = (args: string[]) => peers.spawn(args);

describe.skipIf(!ok)('ice-tcp connect --turn H:P:USER:PASS --force-relay', () => {
  let coturn: Coturn;
  beforeAll(async () => {
    coturn = await startCoturn({ users: { alice: 'secret-a', bob: 'secret-b' } });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('two processes connect through coturn and move 4 MB', async () => {
    const n = 4 * 1024 * 1024;
    const turn = (u: string, p: string) => ['--turn', `${coturn.host}:${coturn.port}:${u}:${p}`];
    const a = cli([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--force-relay',
      ...turn('alice', 'secret-a'),
      '--send-bytes',
      String(n),
    ]);
    const b = cli([
      'connect',
      '--controlled',
      '--bind',
      '127.0.0.1',
      '--force-relay',
      ...turn('bob', 'secret-b'),
      '--expect-bytes',
      String(n),
      '--sha256',
    ]);
    const [la] = await Promise.all([a.localLines(), b.localLines()]);
    const candidates = la.filter((l) => l.startsWith('a=candidate:'));
    expect(candidates.length).toBe(2);
    expect(candidates.every((l) => / typ relay raddr \S+ rport \d+ tcptype (active|passive)$/.test(l))).toBe(
      true,
    );
    await exchangeLines(a, b);
    const [ea, eb] = await Promise.all([a.waitFor('connected'), b.waitFor('connected')]);
    expect(ea.local).toMatchObject({ type: 'relay' });
    expect(eb.local).toMatchObject({ type: 'relay' });
    const db = await b.waitFor('done');
    expect(db.sha256Received).toBe(patternSha256(n));
    expect(await a.exited()).toBe(0);
    expect(await b.exited()).toBe(0);
  });

  it('a wrong TURN password is reported on stderr with ERR_TURN_AUTH; host candidates still printed', async () => {
    const a = cli(['connect', '--bind', '127.0.0.1', '--turn', `${coturn.host}:${coturn.port}:alice:nope`]);
    const la = await a.localLines();
    expect(la.some((l) => / typ host tcptype passive$/.test(l))).toBe(true);
    expect(la.some((l) => / typ relay /.test(l))).toBe(false);
    expect(a.stderr).toMatch(/ERR_TURN_AUTH/);
  });
});
