import { describe, expect, it } from 'vitest';
import { Checklist, type IncomingCheck } from '../../src/checklist/index.js';
import {
  activePassiveChecklist,
  checks,
  kinds,
  localCandidate,
  remoteCandidate,
  testConfig,
} from './helpers.js';

/** Our active candidate and two remote passive ones: `best` outranks `second`. */
function twoRemotes(overrides = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
  list.addRemoteCandidate(
    remoteCandidate({ id: 'best', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 2 }),
    0,
  );
  list.addRemoteCandidate(
    remoteCandidate({ id: 'second', tcpType: 'passive', port: 2, foundation: 'B', otherPreference: 1 }),
    0,
  );
  return list;
}

describe('RFC 8445 §8.1.1 regular nomination by the controlling agent', () => {
  it('nominates the best pair at once when no better pair can still succeed', () => {
    const list = twoRemotes();
    list.start(0);
    list.poll(0); // checks L|best
    list.onCheckSuccess('L|best', 2);
    expect(list.poll(2)).toEqual([{ type: 'pair-succeeded', pairId: 'L|best' }]);
    expect(list.poll(5)).toEqual([{ type: 'check', pairId: 'L|best', useCandidate: true, triggered: true }]);
    list.onCheckSuccess('L|best', 7);
    expect(list.poll(7)).toEqual([{ type: 'selected', pairId: 'L|best' }]);
    expect(list.state).toBe('completed');
    expect(list.selectedPair).toMatchObject({ id: 'L|best', nominated: true });
  });

  it('waits for a better pair still in progress', () => {
    const list = twoRemotes();
    list.start(0);
    list.poll(0); // L|best
    list.poll(5); // L|second
    list.onCheckSuccess('L|second', 6);
    expect(checks(list.poll(10)).filter((c) => c.useCandidate)).toEqual([]);
    list.onCheckSuccess('L|best', 20);
    expect(checks(list.poll(20))).toEqual([
      { type: 'check', pairId: 'L|best', useCandidate: true, triggered: true },
    ]);
  });

  it('nominates the best valid pair after nominationWaitMs from the first check', () => {
    const list = new Checklist(testConfig({ nominationWaitMs: 800 }));
    list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'second', tcpType: 'passive', port: 2, foundation: 'B', otherPreference: 1 }),
      0,
    );
    list.start(100);
    list.poll(100); // L|second
    list.addRemoteCandidate(
      remoteCandidate({ id: 'best', tcpType: 'passive', port: 1, foundation: 'A', otherPreference: 2 }),
      400,
    );
    list.poll(400); // L|best, trickled late: owed L|second's 500 ms (nomination-stale.test.ts), never answered
    list.onCheckSuccess('L|second', 600);
    list.poll(600);
    expect(list.nextWakeup()).toBe(900);
    expect(checks(list.poll(899))).toEqual([]);
    expect(checks(list.poll(900))).toEqual([
      { type: 'check', pairId: 'L|second', useCandidate: true, triggered: true },
    ]);
  });

  it('does not wait for a pair on our passive candidate that the peer never connected to', () => {
    const list = activePassiveChecklist();
    // make the passive pair outrank the active one
    list.getPair('L-passive|R-active')!.priority = list.getPair('L-active|R-passive')!.priority + 1n;
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L-active|R-passive', 3);
    expect(checks(list.poll(5))).toEqual([
      { type: 'check', pairId: 'L-active|R-passive', useCandidate: true, triggered: true },
    ]);
  });

  it('nominates one pair at a time and moves to the next valid pair when the nomination check fails', () => {
    const list = twoRemotes({ nominationWaitMs: 0 });
    list.start(0);
    list.poll(0);
    list.poll(5);
    list.onCheckSuccess('L|best', 6);
    list.onCheckSuccess('L|second', 7);
    expect(
      checks(list.poll(10))
        .filter((c) => c.useCandidate)
        .map((c) => c.pairId),
    ).toEqual(['L|best']);
    expect(checks(list.poll(15)).filter((c) => c.useCandidate)).toEqual([]);
    list.onCheckFailure('L|best', 16, 'connection reset');
    const next = list.poll(20);
    expect(next).toContainEqual({ type: 'pair-failed', pairId: 'L|best' });
    expect(checks(next)).toEqual([
      { type: 'check', pairId: 'L|second', useCandidate: true, triggered: true },
    ]);
  });

  it('sends no more ordinary checks once a pair is selected', () => {
    const list = twoRemotes();
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L|best', 1);
    list.poll(5);
    list.onCheckSuccess('L|best', 6);
    expect(kinds(list.poll(10))).toEqual(['selected']);
    expect(list.getPair('L|second')?.state).toBe('waiting');
    expect([15, 20, 3000].flatMap((t) => list.poll(t))).toEqual([]);
    expect(list.nextWakeup()).toBeUndefined();
  });
});

describe('RFC 8445 §7.3.1.5 nomination seen by the controlled agent', () => {
  const useCandidateOnActivePair: IncomingCheck = {
    localCandidateId: 'L-active',
    remoteAddress: '10.0.0.2',
    remotePort: 50000,
    remoteTcpType: 'passive',
    priority: 1,
    useCandidate: true,
    iceControlling: 99n,
  };

  it('selects at once when USE-CANDIDATE arrives on a pair that already succeeded', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L-active|R-passive', 2);
    list.poll(2);
    list.onIncomingCheck(useCandidateOnActivePair, 3);
    expect(list.poll(3)).toEqual([{ type: 'selected', pairId: 'L-active|R-passive' }]);
    expect(list.selectedPair?.nominated).toBe(true);
  });

  it('selects when its own check succeeds after USE-CANDIDATE arrived first', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onIncomingCheck(useCandidateOnActivePair, 1);
    expect(list.getPair('L-active|R-passive')).toMatchObject({
      useCandidateReceived: true,
      nominated: false,
    });
    expect(list.poll(1)).toEqual([]);
    list.onCheckSuccess('L-active|R-passive', 4);
    expect(list.poll(4)).toEqual([
      { type: 'pair-succeeded', pairId: 'L-active|R-passive' },
      { type: 'selected', pairId: 'L-active|R-passive' },
    ]);
  });

  it('still answers checks once completed, without new checks of its own', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L-active|R-passive', 2);
    list.onIncomingCheck(useCandidateOnActivePair, 3);
    list.poll(3);
    const result = list.onIncomingCheck(
      {
        ...useCandidateOnActivePair,
        localCandidateId: 'L-passive',
        remotePort: 53000,
        remoteTcpType: 'active',
      },
      4,
    );
    expect(result.response).toBe('success');
    expect(list.poll(10)).toEqual([]);
  });

  it('ignores USE-CANDIDATE while controlling', () => {
    const list = activePassiveChecklist({ role: 'controlling', tieBreaker: 100n });
    list.onIncomingCheck({ ...useCandidateOnActivePair, iceControlling: undefined, iceControlled: 1n }, 0);
    expect(list.getPair('L-active|R-passive')?.useCandidateReceived).toBe(false);
  });
});
