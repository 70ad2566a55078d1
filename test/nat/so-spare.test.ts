import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCandidate } from '../../src/candidate/sdp.js';
import { SPARE_SO_PORTS } from '../../src/gather/spare-so.js';
import { createLab, type Lab } from '../support/lab.js';
import type { LinePeer } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { cliInNamespace, type ReportedEndpoint } from './cli-in-netns.js';
import { STUN_PORT, startStunServer } from './run-cell.js';

const ok = requireOrSkip('spare S-O port (test/nat/so-spare.test.ts)', missingForNetns(['nft', 'sysctl']));

/** hostA's `host so` candidates, best first (the primary, then the spare). */
function hostSoPorts(lines: readonly string[]): number[] {
  return lines
    .filter((l) => l.startsWith('a=candidate:'))
    .map((l) => parseCandidate(l.slice(2)))
    .filter((c) => c.type === 'host' && c.tcpType === 'so')
    .sort((x, y) => y.priority - x.priority)
    .map((c) => c.port);
}

/**
 * Every packet of one 5-tuple lost on natA's WAN wire, both ways: what a conntrack lock-out after crossing SYNs
 * does to it (docs/ARCHITECTURE.md, "RST ping-pong"), but every time.
 */
function lockOut(port: number, peerWan: string): string {
  return `table netdev lab_lockout {
  chain out {
    type filter hook egress device "wan" priority filter; policy accept;
    meta protocol ip ip daddr ${peerWan} tcp sport ${port} counter drop
  }
  chain in {
    type filter hook ingress device "wan" priority filter; policy accept;
    meta protocol ip ip saddr ${peerWan} tcp dport ${port} counter drop
  }
}
`;
}

describe.skipIf(!ok)('a locked-out S-O 5-tuple between two NATs', () => {
  let lab: Lab | undefined;
  const peers: LinePeer[] = [];
  beforeAll(async () => {
    // natB drops rather than refuses, so the spare's own pair meets at once instead of racing (RST ping-pong):
    // what is tested is that the agents get to it
    lab = await createLab({
      a: { mapping: 'preserve', filtering: 'rst' },
      b: { mapping: 'preserve', filtering: 'drop' },
    });
    await startStunServer(lab);
  });
  afterAll(async () => {
    for (const p of peers) p.kill();
    await lab?.destroy();
  });

  it("connects over the controlling agent's spare S-O port", async () => {
    const { hostA, hostB } = lab!.hosts;
    const common = ['--stun', `${lab!.server.address}:${STUN_PORT}`, '--timeout', '20'];
    const bytes = ['--send-bytes', '1024', '--expect-bytes', '1024'];
    const a = cliInNamespace(hostA.namespace, [
      'connect',
      '--controlling',
      '--bind',
      hostA.address,
      ...common,
      ...bytes,
    ]);
    const b = cliInNamespace(hostB.namespace, [
      'connect',
      '--controlled',
      '--bind',
      hostB.address,
      ...common,
      ...bytes,
    ]);
    peers.push(a, b);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    const ports = hostSoPorts(la);
    // natA preserves ports, so the primary's 5-tuple towards natB is (natA.wan, primary, natB.wan, *)
    await lab!.exec('natA', 'nft', ['-f', '-'], lockOut(ports[0]!, lab!.natB!.wan));
    a.writeRemote(lb);
    b.writeRemote(la);
    const [ca, cb] = await Promise.all([a.waitFor('connected', 40_000), b.waitFor('connected', 40_000)]);
    // the primary S-O port and, behind natA's port-preserving mapping, the spares: the first one won
    expect(ports).toHaveLength(1 + SPARE_SO_PORTS);
    const local = ca.local as ReportedEndpoint;
    const remote = cb.remote as ReportedEndpoint;
    expect({ type: local.type, tcptype: local.tcptype, port: local.port }).toEqual({
      type: 'host',
      tcptype: 'so',
      port: ports[1],
    });
    expect({ type: remote.type, tcptype: remote.tcptype, port: remote.port }).toEqual({
      type: 'srflx',
      tcptype: 'so',
      port: ports[1],
    });
    await Promise.all([a.waitFor('done', 20_000), b.waitFor('done', 20_000)]);
  }, 150_000);
});
