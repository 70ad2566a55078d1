import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { cliCommand, exchangeLines, LinePeer, ROOT } from '../support/line-peer.js';
import { requireOrSkip } from '../support/require.js';

function libniceAvailable(): boolean {
  try {
    execFileSync(
      '/usr/bin/python3',
      ['-c', "import gi; gi.require_version('Nice','0.1'); from gi.repository import Nice"],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

const ok = requireOrSkip(
  'libnice interop',
  libniceAvailable() ? [] : ['libnice (apt-get install gir1.2-nice-0.1 python3-gi)'],
);

let peers: LinePeer[] = [];
afterEach(() => {
  for (const p of peers) p.kill();
  peers = [];
});

const N = 1_000_000;

/** The `local` / `remote` objects of a `connected` event (both peers print the same shape). */
interface Endpoint {
  type: string;
  tcptype: string;
  address: string;
  port: number;
}
const bytes = ['--send-bytes', String(N), '--expect-bytes', String(N)];

function nice(role: 'controlling' | 'controlled'): LinePeer {
  const p = new LinePeer('/usr/bin/python3', [
    `${ROOT}test/interop/nice_peer.py`,
    `--${role}`,
    '--bind',
    '127.0.0.1',
    ...bytes,
  ]);
  peers.push(p);
  return p;
}

function ours(role: 'controlling' | 'controlled'): LinePeer {
  const [cmd, args] = cliCommand(['connect', `--${role}`, '--bind', '127.0.0.1', ...bytes, '--sha256']);
  const p = new LinePeer(cmd, args);
  peers.push(p);
  return p;
}

describe.skipIf(!ok)('ice-tcp with libnice 0.1.21 (an independent ICE-TCP implementation)', () => {
  for (const [ourRole, theirRole] of [
    ['controlling', 'controlled'],
    ['controlled', 'controlling'],
  ] as const) {
    it(`connects with ice-tcp ${ourRole} and moves 1 MB each way`, async () => {
      const a = ours(ourRole);
      const b = nice(theirRole);
      await exchangeLines(a, b);
      const [ea, eb] = await Promise.all([a.waitFor('connected'), b.waitFor('connected')]);
      // libnice never pairs S-O, so the pair is host active/passive on loopback (the remote end may be
      // peer-reflexive: libnice learns an active peer's port only when it connects)
      expect(ea.local).toMatchObject({ type: 'host', address: '127.0.0.1' });
      expect(ea.remote).toMatchObject({ address: '127.0.0.1' });
      const mine = [ea.local, ea.remote] as Endpoint[];
      const theirs = [eb.local, eb.remote] as Endpoint[];
      expect(mine.map((e) => e.tcptype).sort()).toEqual(['active', 'passive']);
      expect(theirs.map((e) => e.tcptype).sort()).toEqual(['active', 'passive']);
      // both ends chose the same connection: the passive end's listening port appears on both sides
      const passive = mine.find((e) => e.tcptype === 'passive');
      expect(theirs.map((e) => e.port)).toContain(passive?.port);
      const [da, db] = await Promise.all([a.waitFor('done'), b.waitFor('done')]);
      expect(da.sha256Received).toBe(patternSha256(N));
      expect(db.sha256Received).toBe(patternSha256(N));
    });
  }
});
