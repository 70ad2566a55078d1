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

/** One active-to-passive pair whose check is refused at t=10. */
function refusedPair(overrides = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'passive' }), 0);
  list.start(0);
  list.poll(0);
  list.onCheckFailure('L|R', 10, 'ECONNREFUSED');
  return list;
}

function failedActions(list: Checklist, now: number) {
  return list.poll(now).filter((a) => a.type === 'failed');
}

describe('RFC 8838 §8 no failure before both sides finished their candidates', () => {
  it('does not fail while the remote may still trickle candidates', () => {
    const list = refusedPair();
    list.setLocalGatheringComplete(10);
    expect(list.poll(10)).toEqual([{ type: 'pair-failed', pairId: 'L|R' }]);
    expect(list.state).toBe('running');
  });

  it('fails once the remote end-of-candidates arrives and every pair failed', () => {
    const list = refusedPair();
    list.setLocalGatheringComplete(10);
    list.setRemoteEndOfCandidates(20);
    expect(failedActions(list, 20)).toEqual([{ type: 'failed', reason: 'all candidate pairs failed' }]);
    expect(list.state).toBe('failed');
    expect(failedActions(list, 30)).toEqual([]);
  });

  it('does not fail while our own gathering goes on', () => {
    const list = refusedPair();
    list.setRemoteEndOfCandidates(20);
    expect(failedActions(list, 20)).toEqual([]);
    list.setLocalGatheringComplete(30);
    expect(failedActions(list, 30)).toHaveLength(1);
  });

  it('assumes the remote end-of-candidates after its timeout, counted from start', () => {
    const list = refusedPair({ remoteEndOfCandidatesTimeoutMs: 5000 });
    list.setLocalGatheringComplete(10);
    list.poll(10);
    expect(list.nextWakeup()).toBe(5000);
    expect(failedActions(list, 4999)).toEqual([]);
    expect(failedActions(list, 5000)).toEqual([{ type: 'failed', reason: 'all candidate pairs failed' }]);
  });

  it('fails with no pairs at all once both sides are done', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.setLocalGatheringComplete(0);
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    expect(list.poll(0)).toEqual([{ type: 'failed', reason: 'no candidate pairs' }]);
  });

  it('checks a candidate trickled late, even after the first pairs failed', () => {
    const list = refusedPair();
    list.setLocalGatheringComplete(10);
    list.poll(10);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'late', tcpType: 'passive', port: 50001, foundation: 'late' }),
      3000,
    );
    expect(list.nextWakeup()).toBeLessThanOrEqual(3000); // due now: poll at once
    expect(checks(list.poll(3000))).toEqual([
      { type: 'check', pairId: 'L|late', useCandidate: false, triggered: false },
    ]);
    list.setRemoteEndOfCandidates(3001);
    expect(failedActions(list, 3001)).toEqual([]);
  });

  it('gives a pair on our passive candidate one check timeout after the remote end-of-candidates', () => {
    const list = activePassiveChecklist({ checkTimeoutMs: 2500 });
    list.setLocalGatheringComplete(0);
    list.start(0);
    list.poll(0);
    list.onCheckFailure('L-active|R-passive', 10, 'ECONNREFUSED');
    list.setRemoteEndOfCandidates(100);
    expect(failedActions(list, 100)).toEqual([]);
    expect(list.nextWakeup()).toBe(2600);
    expect(failedActions(list, 2599)).toEqual([]);
    expect(failedActions(list, 2600)).toHaveLength(1);
  });

  it('fails when the selected connection is lost', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'passive' }), 0);
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L|R', 1);
    list.poll(5);
    list.onCheckSuccess('L|R', 6);
    expect(kinds(list.poll(6))).toContain('selected');
    list.onConnectionLost('L|R', 100);
    expect(list.poll(100)).toEqual([{ type: 'failed', reason: 'selected connection lost' }]);
    expect(list.state).toBe('failed');
  });

  it('fails an unselected pair whose connection is lost and resets it', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onConnectionLost('L-active|R-passive', 3);
    expect(list.poll(3)).toEqual([{ type: 'pair-failed', pairId: 'L-active|R-passive' }]);
    expect(list.getPair('L-active|R-passive')?.failureReason).toBe('connection lost');
  });
});
