import { afterEach, describe, expect, it } from 'vitest';
import type { NatReport } from '../../src/gather/nat-behaviour.js';
import { createLab, type Lab, type NatMapping } from '../support/lab.js';
import { cliCommand, ROOT } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { STUN_ALT_PORT, STUN_PORT, startStunServer } from './run-cell.js';

const ok = requireOrSkip(
  'natcheck in the NAT lab (test/nat/natcheck.test.ts)',
  missingForNetns(['nft', 'sysctl']),
);

describe.skipIf(!ok)('ice-tcp natcheck inside the lab', () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.destroy();
    lab = undefined;
  });

  async function natcheck(mapping: NatMapping, servers: 'one' | 'two'): Promise<NatReport> {
    lab = await createLab({ a: { mapping, filtering: 'rst' }, b: 'public' });
    await startStunServer(lab);
    const primary = `${lab.server.address}:${STUN_PORT}`;
    // one server: its RFC 5780 OTHER-ADDRESS is the second endpoint; two: given explicitly
    const extra = servers === 'two' ? ['--stun', `${lab.server.address}:${STUN_ALT_PORT}`] : [];
    const [node, argv] = cliCommand(['natcheck', '--stun', primary, ...extra, '--json']);
    const out = await lab.exec('hostA', 'env', [`--chdir=${ROOT}`, node, ...argv]);
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as NatReport;
    console.info(`natcheck ${mapping}/${servers}: ${JSON.stringify({ ...report, observations: undefined })}`);
    expect(report.behindNat).toBe(true);
    expect(report.publicAddress).toBe(lab.natA!.wan);
    return report;
  }

  it('port-preserving NAT: endpoint-independent, preserving, direct likely', async () => {
    const r = await natcheck('preserve', 'one');
    expect(r).toMatchObject({
      mapping: 'endpoint-independent',
      portPreservation: true,
      allocation: { kind: 'preserving' },
      traversal: 'direct-likely',
    });
  });

  it('random NAT: endpoint-dependent, random, needs a relay', async () => {
    const r = await natcheck('random', 'two');
    expect(r).toMatchObject({
      mapping: 'endpoint-dependent',
      portPreservation: false,
      allocation: { kind: 'random' },
      traversal: 'needs-relay',
    });
  });

  it('range NAT (a random port among 10 per connection): range, the span inside it, needs prediction', {
    timeout: 60_000,
  }, async () => {
    // five probes one after another; 1.3 % of such bursts look sequential (simulated, nat-behaviour.ts), as one
    // CI run saw (`sequential, delta -2`): up to three fresh labs, and a miss may only be that misreading
    const seen: NatReport['allocation'][] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await lab?.destroy();
      lab = undefined;
      const r = await natcheck('range', 'one');
      seen.push(r.allocation);
      if (r.allocation.kind !== 'range') {
        expect(r.allocation.kind).toBe('sequential');
        continue;
      }
      expect(r.allocation.low).toBeGreaterThanOrEqual(20000);
      expect(r.allocation.high).toBeLessThanOrEqual(20009);
      expect(r.traversal).not.toBe('needs-relay');
      return;
    }
    expect.fail(`range NAT never read as a range: ${JSON.stringify(seen)}`);
  });

  it('sequential NAT: endpoint-dependent, sequential with delta +1, needs prediction', async () => {
    const r = await natcheck('sequential', 'one');
    expect(r).toMatchObject({
      mapping: 'endpoint-dependent',
      portPreservation: false,
      allocation: { kind: 'sequential', delta: 1 },
      traversal: 'needs-prediction',
    });
  });
});
