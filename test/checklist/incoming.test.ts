import { describe, expect, it } from 'vitest';
import type { IncomingCheck } from '../../src/checklist/index.js';
import { activePassiveChecklist, checks, kinds, localCandidate, remoteCandidate } from './helpers.js';

/** The peer's active candidate connected to our passive one from an ephemeral port. */
function fromPeerActive(overrides: Partial<IncomingCheck> = {}): IncomingCheck {
  return {
    localCandidateId: 'L-passive',
    remoteAddress: '10.0.0.2',
    remotePort: 53001,
    remoteTcpType: 'active',
    priority: 1862270975,
    useCandidate: false,
    ...overrides,
  };
}

describe('RFC 8445 §7.3.1.3 learning peer-reflexive candidates', () => {
  it('learns the source of a check on a passive candidate as a prflx active candidate with its PRIORITY', () => {
    const list = activePassiveChecklist();
    const result = list.onIncomingCheck(fromPeerActive(), 0);
    expect(result.response).toBe('success');
    if (result.response !== 'success') return;
    expect(result.learnedRemote).toMatchObject({
      type: 'prflx',
      tcpType: 'active',
      address: '10.0.0.2',
      port: 53001,
      priority: 1862270975,
      component: 1,
    });
    expect(result.learnedRemote?.foundation).not.toBe('hostactive');
    expect(list.getPair(result.pairId)).toMatchObject({ local: { id: 'L-passive' }, checksReceived: 1 });
  });

  it('finds a known remote candidate by address, port and tcptype instead of learning one', () => {
    const list = activePassiveChecklist();
    const result = list.onIncomingCheck(
      fromPeerActive({ localCandidateId: 'L-active', remotePort: 50000, remoteTcpType: 'passive' }),
      0,
    );
    expect(result).toEqual({ response: 'success', pairId: 'L-active|R-passive' });
  });

  it('does not pair a learned candidate with other local candidates', () => {
    const list = activePassiveChecklist();
    list.onIncomingCheck(fromPeerActive(), 0);
    list.addLocalCandidate(
      localCandidate('L-passive-2', { tcpType: 'passive', port: 40002, otherPreference: 1 }),
      1,
    );
    expect(list.pairs().filter((p) => p.remote.type === 'prflx')).toHaveLength(1);
    expect(list.getPair('L-passive-2|R-active')).toBeDefined();
  });

  it('pairs a learned candidate with every local candidate once the peer signals it after all', () => {
    const list = activePassiveChecklist();
    list.addLocalCandidate(localCandidate('L-so', { tcpType: 'so', port: 41000 }), 0);
    const check = fromPeerActive({ localCandidateId: 'L-so', remotePort: 51000, remoteTcpType: 'so' });
    const result = list.onIncomingCheck(check, 0);
    list.addLocalCandidate(localCandidate('L-so-2', { tcpType: 'so', port: 41001, otherPreference: 1 }), 1);
    expect(list.pairs().filter((p) => p.remote.port === 51000)).toHaveLength(1);
    const signalled = list.addRemoteCandidate(remoteCandidate({ tcpType: 'so', port: 51000 }), 2);
    expect(result.response === 'success' && signalled).toBe(
      result.response === 'success' && result.learnedRemote,
    );
    expect(
      list
        .pairs()
        .filter((p) => p.remote.port === 51000)
        .map((p) => p.local.id)
        .sort(),
    ).toEqual(['L-so', 'L-so-2']);
  });

  it('keeps a check received before start and sends its triggered check first once started', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    const result = list.onIncomingCheck(fromPeerActive(), 0);
    expect(list.poll(0)).toEqual([]);
    list.start(10);
    expect(checks(list.poll(10))).toEqual([
      {
        type: 'check',
        pairId: result.response === 'success' ? result.pairId : '',
        useCandidate: false,
        triggered: true,
      },
    ]);
  });

  it('answers a check with one triggered check on that pair, not one per request (RFC 8445 §7.3.1.4)', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    const first = list.onIncomingCheck(fromPeerActive(), 1);
    list.onIncomingCheck(fromPeerActive(), 2);
    const sent = [5, 10, 15].flatMap((t) => checks(list.poll(t))).filter((c) => c.triggered);
    expect(sent).toEqual([
      {
        type: 'check',
        pairId: first.response === 'success' ? first.pairId : '',
        useCandidate: false,
        triggered: true,
      },
    ]);
    expect(list.getPair(sent[0]!.pairId)?.checksReceived).toBe(2);
  });

  it('sends no triggered check on a pair that already succeeded', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onCheckSuccess('L-active|R-passive', 3);
    list.onIncomingCheck(
      fromPeerActive({ localCandidateId: 'L-active', remotePort: 50000, remoteTcpType: 'passive' }),
      4,
    );
    expect(checks(list.poll(5)).filter((c) => c.triggered)).toEqual([]);
  });

  it('checks a failed pair again when the peer reaches it', () => {
    const list = activePassiveChecklist({ role: 'controlled' });
    list.start(0);
    list.poll(0);
    list.onCheckFailure('L-active|R-passive', 3, 'ECONNREFUSED');
    list.onIncomingCheck(
      fromPeerActive({ localCandidateId: 'L-active', remotePort: 50000, remoteTcpType: 'passive' }),
      4,
    );
    expect(checks(list.poll(5))).toEqual([
      { type: 'check', pairId: 'L-active|R-passive', useCandidate: false, triggered: true },
    ]);
  });
});

describe('RFC 8445 §7.3.1.1 role conflict in an incoming check', () => {
  it('both controlling, ours is larger or equal: answer 487 and stay controlling', () => {
    for (const theirs of [5n, 10n]) {
      const list = activePassiveChecklist({ role: 'controlling', tieBreaker: 10n });
      expect(list.onIncomingCheck(fromPeerActive({ iceControlling: theirs }), 0)).toEqual({
        response: 'role-conflict',
      });
      expect(list.role).toBe('controlling');
      expect(list.pairs().every((p) => p.checksReceived === 0)).toBe(true);
    }
  });

  it('both controlling, theirs is larger: switch to controlled and accept the check', () => {
    const list = activePassiveChecklist({ role: 'controlling', tieBreaker: 10n });
    const before = list.getPair('L-active|R-passive')!.priority;
    expect(list.onIncomingCheck(fromPeerActive({ iceControlling: 11n }), 0).response).toBe('success');
    expect(list.role).toBe('controlled');
    expect(list.poll(0)).toContainEqual({ type: 'role-changed', role: 'controlled' });
    expect(list.getPair('L-active|R-passive')!.priority).not.toBe(before);
  });

  it('both controlled, ours is larger or equal: switch to controlling', () => {
    const list = activePassiveChecklist({ role: 'controlled', tieBreaker: 10n });
    expect(list.onIncomingCheck(fromPeerActive({ iceControlled: 10n }), 0).response).toBe('success');
    expect(list.role).toBe('controlling');
  });

  it('both controlled, theirs is larger: answer 487', () => {
    const list = activePassiveChecklist({ role: 'controlled', tieBreaker: 10n });
    expect(list.onIncomingCheck(fromPeerActive({ iceControlled: 11n }), 0)).toEqual({
      response: 'role-conflict',
    });
    expect(list.role).toBe('controlled');
  });

  it('no conflict when the roles differ', () => {
    const list = activePassiveChecklist({ role: 'controlling', tieBreaker: 1n });
    expect(list.onIncomingCheck(fromPeerActive({ iceControlled: 99n }), 0).response).toBe('success');
    expect(list.role).toBe('controlling');
  });
});

describe('RFC 8445 §7.2.5.1 a 487 response to our check', () => {
  it('switches role, re-sorts by the new priorities and checks the pair again as a triggered check', () => {
    const list = activePassiveChecklist({ role: 'controlling' });
    list.start(0);
    const [check] = checks(list.poll(0));
    list.onRoleConflict(check!.pairId, 4);
    expect(list.role).toBe('controlled');
    const actions = list.poll(5);
    expect(kinds(actions)).toEqual(['role-changed', 'check']);
    expect(actions[1]).toEqual({
      type: 'check',
      pairId: check!.pairId,
      useCandidate: false,
      triggered: true,
    });
    const priorities = list.pairs().map((p) => p.priority);
    expect([...priorities].sort((a, b) => (a > b ? -1 : 1))).toEqual(priorities);
  });

  it('does not switch back when an incoming check already switched us since the request left', () => {
    const list = activePassiveChecklist({ role: 'controlling', tieBreaker: 10n });
    list.start(0);
    const [check] = checks(list.poll(0));
    list.onIncomingCheck(fromPeerActive({ iceControlling: 20n }), 1);
    list.onRoleConflict(check!.pairId, 2);
    expect(list.role).toBe('controlled');
    expect(kinds(list.poll(5)).filter((k) => k === 'role-changed')).toHaveLength(1);
  });
});
