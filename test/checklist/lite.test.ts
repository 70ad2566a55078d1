import { describe, expect, it } from 'vitest';
import { ConsentFreshness } from '../../src/checklist/consent.js';
import { Checklist, type IncomingCheck, initialRole } from '../../src/checklist/index.js';
import { checks, kinds, localCandidate, remoteCandidate, testConfig } from './helpers.js';

/** A lite checklist: one passive host candidate, the peer's active and passive candidates signalled. */
function liteChecklist(): Checklist {
  const list = new Checklist(testConfig({ role: 'controlled', lite: true }));
  list.addLocalCandidate(localCandidate('L-passive', { tcpType: 'passive' }), 0);
  list.addRemoteCandidate(remoteCandidate({ tcpType: 'active', id: 'R-active' }), 0);
  list.addRemoteCandidate(remoteCandidate({ tcpType: 'passive', id: 'R-passive' }), 0);
  list.setLocalGatheringComplete(0);
  list.start(0);
  return list;
}

/** The full peer's check on our passive candidate, from its active side. */
function peerCheck(overrides: Partial<IncomingCheck> = {}): IncomingCheck {
  return {
    localCandidateId: 'L-passive',
    remoteAddress: '10.0.0.2',
    remotePort: 53001,
    remoteTcpType: 'active',
    priority: 1862270975,
    useCandidate: false,
    iceControlling: 5n,
    ...overrides,
  };
}

describe('ice-lite checklist (RFC 8445 §2.5, §6.1.1)', () => {
  it('sends no check, ordinary or triggered, and asks for no wake-up', () => {
    const list = liteChecklist();
    expect(checks(list.poll(0))).toEqual([]);
    list.onIncomingCheck(peerCheck(), 1);
    expect(checks(list.poll(1))).toEqual([]);
    expect(list.nextWakeup()).toBeUndefined();
    expect(checks(list.poll(60_000))).toEqual([]);
  });

  it("takes the peer's check as making the pair valid and selects the pair at its USE-CANDIDATE", () => {
    const list = liteChecklist();
    const first = list.onIncomingCheck(peerCheck(), 1);
    expect(first.response).toBe('success');
    expect(kinds(list.poll(1))).toEqual(['pair-succeeded']);
    expect(list.selectedPair).toBeUndefined();
    const nominated = list.onIncomingCheck(peerCheck({ useCandidate: true }), 2);
    expect(kinds(list.poll(2))).toEqual(['selected']);
    expect(list.selectedPair?.id).toBe(nominated.response === 'success' ? nominated.pairId : '');
    expect(list.state).toBe('completed');
  });

  it('selects at once when the very first check carries USE-CANDIDATE (aggressive peer)', () => {
    const list = liteChecklist();
    list.onIncomingCheck(peerCheck({ useCandidate: true }), 1);
    expect(kinds(list.poll(1))).toEqual(['pair-succeeded', 'selected']);
  });

  it('never fails by itself: no pair can be checked by us, the peer may still come', () => {
    const list = liteChecklist();
    list.setRemoteEndOfCandidates(0);
    expect(kinds(list.poll(600_000))).toEqual([]);
    expect(list.state).toBe('running');
  });

  it('stays controlled in a role conflict: a peer claiming ICE-CONTROLLED gets 487 whatever the tie-breakers', () => {
    const list = liteChecklist();
    // our tie-breaker (10) is the larger one: a full agent would switch to controlling here
    const answer = list.onIncomingCheck(peerCheck({ iceControlling: undefined, iceControlled: 1n }), 1);
    expect(answer).toEqual({ response: 'role-conflict' });
    expect(list.role).toBe('controlled');
    expect(kinds(list.poll(1))).toEqual([]);
  });

  it('refuses a lite configuration in the controlling role', () => {
    expect(() => new Checklist(testConfig({ role: 'controlling', lite: true }))).toThrow(/controlled/);
  });
});

describe('initialRole (RFC 8445 §6.1.1)', () => {
  it('a lite agent is controlled, a full agent facing a lite one controls whatever it was configured with', () => {
    const base = { localLite: false, remoteLite: false, configured: undefined, offerer: false } as const;
    expect(initialRole({ ...base, localLite: true, offerer: true })).toBe('controlled');
    expect(initialRole({ ...base, remoteLite: true, configured: 'controlled' })).toBe('controlling');
    expect(initialRole({ ...base, offerer: true })).toBe('controlling');
    expect(initialRole({ ...base, configured: 'controlled', offerer: true })).toBe('controlled');
    expect(initialRole(base)).toBe('controlled');
  });
});

describe('peer-driven consent (lite, RFC 7675)', () => {
  it("sends no check; the peer's checks keep consent, which expires a timeout after the last one", () => {
    const machine = new ConsentFreshness({ intervalMs: 100, timeoutMs: 1000, peerDriven: true });
    machine.start(0);
    expect(machine.poll(500)).toEqual([]);
    machine.onPeerCheck(900);
    expect(machine.poll(1500)).toEqual([]);
    expect(machine.nextWakeup()).toBe(1900);
    expect(machine.poll(1900)).toMatchObject([{ type: 'lost', reason: 'expired' }]);
    expect(machine.checksSent).toBe(0);
  });

  it("ignores the peer's checks when it sends its own (full agent: only answers count)", () => {
    const machine = new ConsentFreshness({ intervalMs: 100, timeoutMs: 1000, random: () => 0.5 });
    machine.start(0);
    machine.onPeerCheck(900);
    const actions = machine.poll(1000);
    expect(actions.map((a) => a.type)).toContain('lost');
  });
});
