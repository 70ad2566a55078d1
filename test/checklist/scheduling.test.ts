import { describe, expect, it } from 'vitest';
import { Checklist } from '../../src/checklist/index.js';
import {
  activePassiveChecklist,
  checks,
  kinds,
  localCandidate,
  remoteCandidate,
  testConfig,
} from './helpers.js';

/** One local active candidate and `n` remote passive ones on distinct ports, each its own foundation. */
function activeToPassives(n: number, overrides = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
  for (let i = 0; i < n; i++) {
    list.addRemoteCandidate(
      remoteCandidate({
        id: `R${i}`,
        tcpType: 'passive',
        port: 1000 + i,
        foundation: `f${i}`,
        otherPreference: 100 - i,
      }),
      0,
    );
  }
  return list;
}

function stateOf(list: Checklist, remoteId: string): string | undefined {
  return list.pairs().find((p) => p.remote.id === remoteId)?.state;
}

describe('RFC 8445 §6.1.2.6 initial states', () => {
  it('sets the best pair of each foundation waiting and the others frozen', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a1', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 1 }),
      0,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a2', tcpType: 'passive', port: 2, foundation: 'A', otherPreference: 2 }),
      0,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'b1', tcpType: 'passive', port: 3, foundation: 'B', otherPreference: 0 }),
      0,
    );
    expect([stateOf(list, 'a2'), stateOf(list, 'a1'), stateOf(list, 'b1')]).toEqual([
      'waiting',
      'frozen',
      'waiting',
    ]);
  });

  it('thaws the frozen pairs of a foundation when one of its pairs succeeds', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a1', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 2 }),
      0,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a2', tcpType: 'passive', port: 2, foundation: 'A', otherPreference: 1 }),
      0,
    );
    list.start(0);
    const [first] = checks(list.poll(0));
    expect(stateOf(list, 'a2')).toBe('frozen');
    list.onCheckSuccess(first!.pairId, 3);
    expect(stateOf(list, 'a2')).toBe('waiting');
  });

  it('thaws the best frozen pair when nothing is waiting and its foundation has nothing under way', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a1', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 2 }),
      0,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a2', tcpType: 'passive', port: 2, foundation: 'A', otherPreference: 1 }),
      0,
    );
    list.start(0);
    const [first] = checks(list.poll(0));
    expect(checks(list.poll(5))).toHaveLength(0); // a2 stays frozen while a1 is in progress
    list.onCheckFailure(first!.pairId, 10, 'ECONNREFUSED');
    const next = checks(list.poll(10));
    expect(next.map((c) => c.pairId)).toEqual(['L|a2']);
  });

  it('places a trickled pair frozen behind a better waiting pair of its foundation', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a1', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 5 }),
      0,
    );
    list.start(0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'a2', tcpType: 'passive', port: 2, foundation: 'A', otherPreference: 1 }),
      1,
    );
    list.addRemoteCandidate(remoteCandidate({ id: 'b', tcpType: 'passive', port: 3, foundation: 'B' }), 1);
    expect([stateOf(list, 'a2'), stateOf(list, 'b')]).toEqual(['frozen', 'waiting']);
  });
});

describe('RFC 8445 §6.1.4.2 pacing of ordinary checks', () => {
  it('sends the first check at start and then exactly one per Ta, best pair first', () => {
    const list = activeToPassives(3, { pacingMs: 20 });
    expect(list.nextWakeup()).toBeUndefined();
    list.start(1000);
    expect(list.nextWakeup()).toBe(1000);
    expect(checks(list.poll(1000)).map((c) => c.pairId)).toEqual(['L|R0']);
    expect(checks(list.poll(1010))).toEqual([]);
    expect(list.nextWakeup()).toBe(1020);
    expect(checks(list.poll(1020)).map((c) => c.pairId)).toEqual(['L|R1']);
    expect(checks(list.poll(1045)).map((c) => c.pairId)).toEqual(['L|R2']);
    expect(checks(list.poll(1070))).toEqual([]);
  });

  it('sends nothing before start', () => {
    const list = activeToPassives(2);
    expect(list.poll(0)).toEqual([]);
    expect(list.state).toBe('new');
  });

  it('never sends an ordinary check from a passive local candidate (RFC 6544 §7.1)', () => {
    const list = activePassiveChecklist();
    list.start(0);
    const sent = [0, 5, 10, 15, 20].flatMap((t) => checks(list.poll(t)));
    expect(sent.map((c) => c.pairId)).toEqual(['L-active|R-passive']);
    const passivePair = list.getPair('L-passive|R-active');
    expect(passivePair?.state).toBe('waiting');
    expect(passivePair?.checksSent).toBe(0);
  });

  it('sends a triggered check before any ordinary one (RFC 8445 §6.1.4.2)', () => {
    const list = activePassiveChecklist();
    list.start(0);
    list.onIncomingCheck(
      {
        localCandidateId: 'L-passive',
        remoteAddress: '10.0.0.2',
        remotePort: 53001,
        remoteTcpType: 'active',
        priority: 1,
        useCandidate: false,
      },
      0,
    );
    const [first] = checks(list.poll(0));
    expect(first).toMatchObject({ triggered: true, useCandidate: false });
    expect(first?.pairId).toMatch(/^L-passive\|/);
    const [second] = checks(list.poll(5));
    expect(second).toMatchObject({ pairId: 'L-active|R-passive', triggered: false });
  });
});

describe('check timeout', () => {
  it('fails an in-progress check after checkTimeoutMs and tells the agent to reset its connection', () => {
    const list = activeToPassives(1, { checkTimeoutMs: 2500 });
    list.start(0);
    list.poll(0);
    expect(list.nextWakeup()).toBe(2500);
    expect(kinds(list.poll(2499))).toEqual([]);
    expect(list.poll(2500)).toContainEqual({ type: 'pair-failed', pairId: 'L|R0' });
    expect(list.getPair('L|R0')).toMatchObject({ state: 'failed', failureReason: 'timeout' });
  });

  it('records the round-trip time of a successful check', () => {
    const list = activeToPassives(1, { role: 'controlled' });
    list.start(100);
    list.poll(100);
    list.onCheckSuccess('L|R0', 142);
    expect(list.poll(142)).toContainEqual({ type: 'pair-succeeded', pairId: 'L|R0' });
    expect(list.getPair('L|R0')).toMatchObject({ state: 'succeeded', rttMs: 42, checksSent: 1 });
  });
});
