import { describe, expect, it } from 'vitest';
import { Checklist, type ChecklistConfig, type LocalCandidate } from '../../src/checklist/index.js';
import { hostCandidates, localCandidate, testConfig } from './helpers.js';
import { type SimAgent, SimNetwork } from './network.js';

function agent(name: string, locals: LocalCandidate[], config: Partial<ChecklistConfig>): SimAgent {
  return { name, list: new Checklist(testConfig(config)), locals };
}

/** Exchanges candidates through "signalling" that takes `delayMs`, one candidate at a time (trickle). */
function signal(
  net: SimNetwork,
  from: SimAgent,
  to: SimAgent,
  delayMs: number,
  extra: LocalCandidate[] = [],
): void {
  const published = [...from.locals, ...extra];
  published.forEach((c, i) => {
    net.at(delayMs * (i + 1), () => {
      const { id: _id, baseAddress: _b, basePort: _p, ...wire } = c;
      to.list.addRemoteCandidate(wire, net.now);
    });
  });
  net.at(delayMs * (published.length + 1), () => to.list.setRemoteEndOfCandidates(net.now));
}

function setUp(
  aConfig: Partial<ChecklistConfig>,
  bConfig: Partial<ChecklistConfig>,
  unreachable: string[] = [],
) {
  const a = agent('A', hostCandidates('A', '10.0.0.1', 40000), aConfig);
  const b = agent('B', hostCandidates('B', '10.0.0.2', 50000), bConfig);
  const net = new SimNetwork([a, b], 10, new Set(unreachable));
  for (const side of [a, b]) {
    for (const c of side.locals) side.list.addLocalCandidate(c, 0);
    side.list.setLocalGatheringComplete(0);
  }
  // B also advertises a server-reflexive passive candidate that A cannot reach (no hairpin)
  const bSrflx = localCandidate('B-srflx', {
    tcpType: 'passive',
    type: 'srflx',
    address: '203.0.113.2',
    port: 50000,
    baseAddress: '10.0.0.2',
    basePort: 50000,
  });
  signal(net, a, b, 7);
  signal(net, b, a, 11, [bSrflx]);
  net.at(0, () => a.list.start(net.now));
  net.at(3, () => b.list.start(net.now));
  return { a, b, net };
}

function expectSameSelectedConnection(net: SimNetwork, a: SimAgent, b: SimAgent): void {
  expect(a.list.state).toBe('completed');
  expect(b.list.state).toBe('completed');
  const aConnection = net.connectionOf(a, a.list.selectedPair!.id);
  const bConnection = net.connectionOf(b, b.list.selectedPair!.id);
  expect(aConnection).toBeDefined();
  expect(aConnection).toBe(bConnection);
}

describe('two agents checking each other through a simulated network', () => {
  it('both complete on the same connection: the controlling agent nominates, the controlled one follows', () => {
    const { a, b, net } = setUp(
      { role: 'controlling', tieBreaker: 7n },
      { role: 'controlled', tieBreaker: 3n },
      ['203.0.113.2'],
    );
    net.run(() => a.list.state === 'completed' && b.list.state === 'completed', 10_000);
    expectSameSelectedConnection(net, a, b);
    expect(a.list.selectedPair).toMatchObject({ local: { id: 'A-active' }, remote: { tcpType: 'passive' } });
    expect(b.list.selectedPair).toMatchObject({
      local: { id: 'B-passive' },
      remote: { type: 'prflx', tcpType: 'active' },
    });
    expect(net.now).toBeLessThan(800); // nominated without waiting for nominationWaitMs
  });

  it('settles a role conflict when both start controlling and still agree on one connection', () => {
    const { a, b, net } = setUp(
      { role: 'controlling', tieBreaker: 3n },
      { role: 'controlling', tieBreaker: 7n },
    );
    net.run(() => a.list.state === 'completed' && b.list.state === 'completed', 10_000);
    expect([a.list.role, b.list.role]).toEqual(['controlled', 'controlling']);
    expectSameSelectedConnection(net, a, b);
  });

  it('settles a role conflict when both start controlled', () => {
    const { a, b, net } = setUp(
      { role: 'controlled', tieBreaker: 3n },
      { role: 'controlled', tieBreaker: 7n },
    );
    net.run(() => a.list.state === 'completed' && b.list.state === 'completed', 10_000);
    expect([a.list.role, b.list.role].sort()).toEqual(['controlled', 'controlling']);
    expectSameSelectedConnection(net, a, b);
  });

  it('falls back to simultaneous open when neither passive candidate can be reached', () => {
    const a = agent('A', hostCandidates('A', '10.0.0.1', 40000), { role: 'controlling', tieBreaker: 9n });
    const b = agent('B', hostCandidates('B', '10.0.0.2', 50000), { role: 'controlled', tieBreaker: 1n });
    // only the S-O candidates are published: a NAT in front of each passive port would drop the SYNs
    a.locals.splice(0, 2);
    b.locals.splice(0, 2);
    const net = new SimNetwork([a, b], 10);
    for (const side of [a, b]) {
      for (const c of side.locals) side.list.addLocalCandidate(c, 0);
      side.list.setLocalGatheringComplete(0);
    }
    signal(net, a, b, 5);
    signal(net, b, a, 5);
    net.at(0, () => a.list.start(net.now));
    net.at(0, () => b.list.start(net.now));
    net.run(() => a.list.state === 'completed' && b.list.state === 'completed', 10_000);
    expectSameSelectedConnection(net, a, b);
    expect(a.list.selectedPair?.local.tcpType).toBe('so');
  });

  it('both fail, each only after the other side ended its candidates, when nothing connects', () => {
    const { a, b, net } = setUp(
      { role: 'controlling', tieBreaker: 7n },
      { role: 'controlled', tieBreaker: 3n },
      ['10.0.0.1', '10.0.0.2', '203.0.113.2'],
    );
    net.run(() => a.list.state === 'failed' && b.list.state === 'failed', 20_000);
    expect([a.list.state, b.list.state]).toEqual(['failed', 'failed']);
    // the last pairs to give up are those on passive candidates: one check timeout after the remote's end
    expect(net.now).toBeGreaterThanOrEqual(2500);
  });
});
