import { describe, expect, it } from 'vitest';
import { Checklist } from '../../src/checklist/index.js';
import { checks, localCandidate, remoteCandidate, testConfig } from './helpers.js';

/**
 * The hairpin set-up (test/nat/cells.ts, `same NAT, hairpin`): our S-O port against the peer's host S-O
 * candidate (LAN isolation drops its SYNs: the check hangs) and its server-reflexive one (the hairpin answers).
 */
function hairpin(overrides = {}): Checklist {
  const list = againstSrflx(overrides);
  list.addRemoteCandidate(hostSo(), 0);
  return list;
}

/** Our S-O port against the peer's server-reflexive S-O candidate only; its host one may trickle in later. */
function againstSrflx(overrides = {}): Checklist {
  const list = new Checklist(testConfig({ nominationWaitMs: 800, ...overrides }));
  list.addLocalCandidate(localCandidate('L', { tcpType: 'so' }), 0);
  list.addRemoteCandidate(
    remoteCandidate({ id: 'srflx', tcpType: 'so', type: 'srflx', address: '203.0.113.1', foundation: 'S' }),
    0,
  );
  return list;
}

/** The peer's host S-O candidate (pair `L|host`). */
const hostSo = () => remoteCandidate({ id: 'host', tcpType: 'so', foundation: 'H' });

/**
 * Our active and passive candidates against the peer's passive and active ones, one foundation: our dial to its
 * passive candidate (A|pas) ranks above the pair over its connection to our passive one. Started at 0.
 */
function activeAndPassive(): Checklist {
  const list = new Checklist(testConfig({ nominationWaitMs: 800 }));
  list.addLocalCandidate(localCandidate('A', { tcpType: 'active', otherPreference: 2 }), 0);
  list.addLocalCandidate(localCandidate('P', { tcpType: 'passive', port: 40000 }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'pas', tcpType: 'passive', foundation: 'H' }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'act', tcpType: 'active', foundation: 'H' }), 0);
  list.getPair('A|pas')!.priority = list.getPair('P|act')!.priority + 1n;
  list.start(0);
  return list;
}

/** The peer's active candidate connects to our passive one at `now` and its check passes: the new pair's id. */
function peerConnects(list: Checklist, now: number): string {
  const inbound = list.onIncomingCheck(
    {
      localCandidateId: 'P',
      remoteAddress: '10.0.0.2',
      remotePort: 41000,
      remoteTcpType: 'active',
      priority: 1,
      useCandidate: false,
      iceControlled: 1n,
    },
    now,
  );
  expect(inbound).toMatchObject({ response: 'success' });
  return (inbound as { pairId: string }).pairId;
}

const nominations = (list: Checklist, now: number) =>
  checks(list.poll(now))
    .filter((c) => c.useCandidate)
    .map((c) => c.pairId);

describe('nomination stops waiting for a better pair whose check is not coming', () => {
  it('nominates the hairpin pair once the host check, sent first, has had 3x its round trips + 10 ms, not after nominationWaitMs', () => {
    const list = hairpin();
    list.start(0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['L|host']);
    expect(checks(list.poll(5)).map((c) => c.pairId)).toEqual(['L|srflx']);
    list.onCheckSuccess('L|srflx', 15); // rtt 10 ms
    expect(nominations(list, 15)).toEqual([]);
    expect(list.nextWakeup()).toBe(40); // both checks dial: the host check went out at 0, 0 + 3 x 10 + 10
    expect(nominations(list, 39)).toEqual([]);
    expect(nominations(list, 40)).toEqual(['L|srflx']);
  });

  it('a better pair whose check went out late (trickle) gets its own time from then, and wins if it answers', () => {
    const list = againstSrflx();
    list.start(0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['L|srflx']);
    list.addRemoteCandidate(hostSo(), 20);
    expect(checks(list.poll(20)).map((c) => c.pairId)).toEqual(['L|host']);
    list.onCheckSuccess('L|srflx', 40); // rtt 40 ms
    expect(nominations(list, 40)).toEqual([]);
    expect(list.nextWakeup()).toBe(150); // 20 + 3 x 40 + 10
    list.onCheckSuccess('L|host', 100);
    expect(nominations(list, 100)).toEqual(['L|host']);
  });

  it('a frozen better pair counts from its foundation’s check in flight', () => {
    const list = new Checklist(testConfig({ nominationWaitMs: 800 }));
    // two S-O ports of one foundation: the second one's pair to the host candidate waits frozen behind the first's
    list.addLocalCandidate(localCandidate('L', { tcpType: 'so', otherPreference: 2 }), 0);
    list.addLocalCandidate(localCandidate('L2', { tcpType: 'so', port: 50001, otherPreference: 1 }), 0);
    list.addRemoteCandidate(hostSo(), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'srflx', tcpType: 'so', type: 'srflx', address: '203.0.113.1', foundation: 'S' }),
      0,
    );
    list.start(0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['L|host']);
    expect(checks(list.poll(5)).map((c) => c.pairId)).toEqual(['L|srflx']);
    expect(list.getPair('L2|host')?.state).toBe('frozen');
    list.onCheckSuccess('L|srflx', 15);
    expect(nominations(list, 15)).toEqual([]);
    expect(list.nextWakeup()).toBe(40);
    expect(nominations(list, 40)).toEqual(['L|srflx']);
  });

  it('waits for a better pair that the peer’s check came through', () => {
    const list = hairpin();
    list.start(0);
    list.poll(0); // L|host
    list.poll(5); // L|srflx
    list.onIncomingCheck(
      {
        localCandidateId: 'L',
        remoteAddress: '10.0.0.2',
        remotePort: 50000,
        remoteTcpType: 'so',
        priority: 1,
        useCandidate: false,
        iceControlled: 1n,
      },
      8,
    );
    list.onCheckSuccess('L|srflx', 15);
    expect(nominations(list, 100)).toEqual([]);
    expect(nominations(list, 800)).toEqual(['L|srflx']);
  });

  it('a check over a connection already there is owed one round trip, a dial two', () => {
    // our passive candidate's pair, checked over the connection the peer opened: one round trip of 10 ms
    const list = activeAndPassive();
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['A|pas']);
    const pairId = peerConnects(list, 2);
    expect(checks(list.poll(5)).map((c) => c.pairId)).toEqual([pairId]);
    list.onCheckSuccess(pairId, 15);
    expect(nominations(list, 15)).toEqual([]);
    expect(list.nextWakeup()).toBe(70); // A|pas dials: 0 + 3 x 2 x 10 + 10
    expect(nominations(list, 69)).toEqual([]);
    expect(nominations(list, 70)).toEqual([pairId]);
  });

  it('a better pair answering late by load, within three round-trip times (RFC 6298 first RTO), still wins', () => {
    // public <-> public at 20 ms RTT on a loaded CI runner: the peer's active connection to our passive candidate
    // answered in 1 RTT; our own dial to its passive candidate, sent first, took 2 RTT plus some load
    const list = activeAndPassive();
    list.poll(0); // A|pas dials
    const pairId = peerConnects(list, 20);
    list.poll(25); // the triggered check on the peer's connection
    list.onCheckSuccess(pairId, 45); // 20 ms
    expect(nominations(list, 45)).toEqual([]);
    expect(nominations(list, 60)).toEqual([]); // 2 RTT + 10 ms, where load may still hold the answer
    list.onCheckSuccess('A|pas', 62);
    expect(nominations(list, 62)).toEqual(['A|pas']);
  });

  it('keeps nominationWaitMs as the bound when the better pair is still within its time', () => {
    const list = againstSrflx();
    list.start(100);
    list.poll(100); // L|srflx
    list.addRemoteCandidate(hostSo(), 400);
    list.poll(400); // L|host
    list.onCheckSuccess('L|srflx', 600); // rtt 500 ms: L|host may answer until 400 + 3 x 500 + 10
    expect(nominations(list, 600)).toEqual([]);
    expect(list.nextWakeup()).toBe(900);
    expect(nominations(list, 899)).toEqual([]);
    expect(nominations(list, 900)).toEqual(['L|srflx']);
  });
});
