import { describe, expect, it } from 'vitest';
import { pairPriority } from '../../src/candidate/priority.js';
import { Checklist } from '../../src/checklist/index.js';
import { localCandidate, remoteCandidate, testConfig } from './helpers.js';

function pairNames(list: Checklist): string[] {
  return list.pairs().map((p) => `${p.local.id}->${p.remote.id}`);
}

describe('RFC 6544 §6.2 forming candidate pairs', () => {
  it('pairs local active with remote passive, local passive with remote active, S-O with S-O', () => {
    const list = new Checklist(testConfig());
    for (const tcpType of ['active', 'passive', 'so'] as const) {
      list.addLocalCandidate(
        localCandidate(`L-${tcpType}`, { tcpType, port: tcpType === 'active' ? 9 : 40001 }),
        0,
      );
      list.addRemoteCandidate(remoteCandidate({ id: `R-${tcpType}`, tcpType }), 0);
    }
    expect(pairNames(list).sort()).toEqual(['L-active->R-passive', 'L-passive->R-active', 'L-so->R-so']);
  });

  it('never pairs an IPv4 candidate with an IPv6 one', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L4', { tcpType: 'active', address: '10.0.0.1' }), 0);
    list.addLocalCandidate(localCandidate('L6', { tcpType: 'active', address: 'fd00::1' }), 0);
    list.addRemoteCandidate(remoteCandidate({ id: 'R4', tcpType: 'passive', address: '10.0.0.2' }), 0);
    list.addRemoteCandidate(remoteCandidate({ id: 'R6', tcpType: 'passive', address: 'fd00::2' }), 0);
    expect(pairNames(list).sort()).toEqual(['L4->R4', 'L6->R6']);
  });

  it('never pairs candidates of different components', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate({ ...remoteCandidate({ tcpType: 'passive' }), component: 2 }, 0);
    expect(list.pairs()).toHaveLength(0);
  });

  it('pairs whichever side arrives first: remote candidates before local ones work too', () => {
    const list = new Checklist(testConfig());
    list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'passive' }), 0);
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    expect(pairNames(list)).toEqual(['L->R']);
  });

  it('keeps one copy of a remote candidate signalled twice', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    const first = list.addRemoteCandidate(remoteCandidate({ tcpType: 'passive' }), 0);
    const again = list.addRemoteCandidate(remoteCandidate({ tcpType: 'passive' }), 0);
    expect(again).toBe(first);
    expect(list.pairs()).toHaveLength(1);
  });
});

describe('RFC 8445 §6.1.2.3 pair priority and order', () => {
  it('uses the controlling side as G and the controlled side as D', () => {
    for (const role of ['controlling', 'controlled'] as const) {
      const list = new Checklist(testConfig({ role }));
      const local = localCandidate('L', { tcpType: 'active', priority: 2000 });
      list.addLocalCandidate(local, 0);
      list.addRemoteCandidate(remoteCandidate({ tcpType: 'passive', priority: 1000 }), 0);
      const expected = role === 'controlling' ? pairPriority(2000, 1000) : pairPriority(1000, 2000);
      expect(list.pairs()[0]?.priority).toBe(expected);
    }
  });

  it('lists pairs highest priority first', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'srflx', tcpType: 'passive', type: 'srflx', address: '203.0.113.9' }),
      0,
    );
    list.addRemoteCandidate(remoteCandidate({ id: 'host', tcpType: 'passive' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'relay', tcpType: 'passive', type: 'relay', address: '198.51.100.7' }),
      0,
    );
    expect(list.pairs().map((p) => p.remote.id)).toEqual(['host', 'srflx', 'relay']);
    const priorities = list.pairs().map((p) => p.priority);
    expect([...priorities].sort((a, b) => (a > b ? -1 : 1))).toEqual(priorities);
  });

  it('names the pair foundation after both candidate foundations', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active', foundation: 'a1' }), 0);
    list.addRemoteCandidate(remoteCandidate({ tcpType: 'passive', foundation: 'b2' }), 0);
    expect(list.pairs()[0]?.foundation).toBe('a1:b2');
  });
});

describe('RFC 8445 §6.1.2.4 pruning redundant pairs', () => {
  it('replaces a server-reflexive local candidate by its base and keeps the better pair', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(
      localCandidate('srflx', {
        tcpType: 'passive',
        type: 'srflx',
        address: '203.0.113.1',
        port: 40000,
        baseAddress: '10.0.0.1',
        basePort: 40000,
      }),
      0,
    );
    list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'active' }), 0);
    list.addLocalCandidate(localCandidate('host', { tcpType: 'passive', port: 40000 }), 0);
    expect(pairNames(list)).toEqual(['host->R']);
  });

  it('treats active candidates with the same base address as one, whatever their port', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('host', { tcpType: 'active' }), 0);
    list.addLocalCandidate(
      localCandidate('srflx', {
        tcpType: 'active',
        type: 'srflx',
        address: '203.0.113.1',
        baseAddress: '10.0.0.1',
        basePort: 9,
      }),
      0,
    );
    list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'passive' }), 0);
    expect(pairNames(list)).toEqual(['host->R']);
  });

  it('keeps pairs from different bases to the same remote', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('a', { tcpType: 'so', port: 41000 }), 0);
    list.addLocalCandidate(localCandidate('b', { tcpType: 'so', port: 41001, otherPreference: 1 }), 0);
    list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'so' }), 0);
    expect(list.pairs()).toHaveLength(2);
  });
});

describe('RFC 8445 §6.1.2.5 limit on the number of pairs', () => {
  it('keeps the 100 highest-priority pairs', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    for (let i = 0; i < 120; i++) {
      list.addRemoteCandidate(
        remoteCandidate({ id: `R${i}`, tcpType: 'passive', port: 1000 + i, otherPreference: i }),
        0,
      );
    }
    const kept = list.pairs();
    expect(kept).toHaveLength(100);
    expect(kept.map((p) => p.remote.id)).not.toContain('R19');
    expect(kept.map((p) => p.remote.id)).toContain('R20');
  });

  it('never drops a pair whose check is under way', () => {
    const list = new Checklist(testConfig({ maxPairs: 2 }));
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'low', tcpType: 'passive', port: 1000, otherPreference: 0 }),
      0,
    );
    list.start(0);
    list.poll(0); // checks "low", the only pair
    list.addRemoteCandidate(
      remoteCandidate({ id: 'mid', tcpType: 'passive', port: 1001, otherPreference: 1 }),
      1,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'high', tcpType: 'passive', port: 1002, otherPreference: 2 }),
      2,
    );
    expect(list.pairs().map((p) => p.remote.id)).toEqual(['high', 'low']);
  });
});
