import { describe, expect, it } from 'vitest';
import type { NatProfile } from '../../src/candidate/nat-profile.js';
import { Checklist } from '../../src/checklist/index.js';
import { checks, localCandidate, remoteCandidate, testConfig } from './helpers.js';

const PRIVATE_A = '10.0.1.2';
const PUBLIC_A = '203.0.113.1';
const PUBLIC_B = '203.0.113.2';
const RELAY = '203.0.113.10';
const PREDICTED: Array<[string, string]> = [['x-ice-tcp-predicted', 'sequential']];

const nominated = (list: Checklist, now: number) =>
  checks(list.poll(now))
    .filter((c) => c.useCandidate)
    .map((c) => c.pairId);

/**
 * Our host S-O (and its srflx), our host active and a relay active candidate; the peer's candidates as given.
 * The relay pair `R|relay` is the lowest; every other pair is checked first and left unanswered.
 */
function relayCell(remotes: Array<ReturnType<typeof remoteCandidate>>): Checklist {
  const list = new Checklist(testConfig({ nominationWaitMs: 800, relayNominationWaitMs: 800 }));
  list.addLocalCandidate(localCandidate('S', { tcpType: 'so', address: PRIVATE_A, port: 40000 }), 0);
  list.addLocalCandidate(
    localCandidate('Sx', {
      tcpType: 'so',
      type: 'srflx',
      address: PUBLIC_A,
      port: 51234,
      baseAddress: PRIVATE_A,
      basePort: 40000,
    }),
    0,
  );
  list.addLocalCandidate(localCandidate('A', { tcpType: 'active', address: PRIVATE_A }), 0);
  list.addLocalCandidate(localCandidate('R', { tcpType: 'active', type: 'relay', address: RELAY }), 0);
  for (const r of remotes) list.addRemoteCandidate(r, 0);
  list.addRemoteCandidate(
    remoteCandidate({ id: 'relay', tcpType: 'passive', type: 'relay', address: RELAY, port: 49200 }),
    0,
  );
  list.setRemoteEndOfCandidates(0);
  list.setLocalGatheringComplete(0);
  return list;
}

/** Starts the list, sends every check, and lets only the relay pair succeed at 50 ms. */
function relaySucceeds(list: Checklist, profiles?: { local?: NatProfile; remote?: NatProfile }): void {
  if (profiles) list.setNatProfiles(profiles, 0);
  list.start(0);
  for (let t = 0; t <= 45; t += 5) list.poll(t);
  // a relayed port refuses a direct dial without a permission (coturn resets it)
  list.onCheckFailure('A|relay', 45, 'ECONNRESET');
  expect(list.getPair('R|relay')?.state).toBe('in-progress');
  list.onCheckSuccess('R|relay', 50);
}

const peerSrflxSo = (extra = {}) =>
  remoteCandidate({ id: 'bx', tcpType: 'so', type: 'srflx', address: PUBLIC_B, port: 40001, ...extra });
const peerSrflxPassive = () =>
  remoteCandidate({ id: 'bp', tcpType: 'passive', type: 'srflx', address: PUBLIC_B, port: 40002 });

describe('nomination by evidence: pairs the NAT profiles show hopeless hold no nomination', () => {
  it('without profiles the relay waits relayNominationWaitMs for the direct pairs in flight (unknown = as before)', () => {
    const list = relayCell([peerSrflxSo(), peerSrflxPassive()]);
    relaySucceeds(list);
    expect(nominated(list, 50)).toEqual([]);
    expect(nominated(list, 799)).toEqual([]);
    expect(nominated(list, 800)).toEqual(['R|relay']);
  });

  it('rules 2 and 4: behind our edm NAT, towards a NATed peer, the relay is nominated as soon as it succeeds', () => {
    const list = relayCell([peerSrflxSo(), peerSrflxPassive()]);
    relaySucceeds(list, { local: { behindNat: true, mapping: 'edm' }, remote: { behindNat: true } });
    expect(list.hopelessReason('S|bx')).toMatch(/edm/);
    expect(list.hopelessReason('A|bp')).toMatch(/passive port/);
    expect(nominated(list, 50)).toEqual(['R|relay']);
  });

  it('rule 3: the peer says edm, so its measured srflx S-O cannot be reached; its predicted one can', () => {
    const predicted = {
      ...peerSrflxSo({ id: 'bq', port: 20006, foundation: 'pred' }),
      extensions: PREDICTED,
    };
    const list = relayCell([peerSrflxSo(), predicted]);
    relaySucceeds(list, { remote: { behindNat: true, mapping: 'edm' } });
    expect(list.hopelessReason('S|bx')).toMatch(/edm/);
    expect(list.hopelessReason('S|bq')).toBeUndefined();
    expect(nominated(list, 50)).toEqual([]);
    list.onCheckFailure('S|bq', 60, 'timeout');
    expect(nominated(list, 60)).toEqual(['R|relay']);
  });

  it('rule 4 spares our predicted candidates, a peer that may dial our predicted ports, and a public peer', () => {
    const predicted = {
      ...peerSrflxSo({ id: 'bq', port: 20006, foundation: 'pred' }),
      extensions: PREDICTED,
    };
    const list = relayCell([peerSrflxSo(), predicted]);
    const edm = { local: { behindNat: true, mapping: 'edm' as const }, remote: { behindNat: true } };
    list.setNatProfiles(edm, 0);
    expect(list.hopelessReason('S|bx')).toMatch(/edm/);
    list.addLocalCandidate(
      {
        ...localCandidate('P', {
          tcpType: 'so',
          type: 'srflx',
          address: PUBLIC_A,
          port: 20007,
          baseAddress: PRIVATE_A,
          basePort: 41000,
        }),
        extensions: PREDICTED,
      },
      0,
    );
    // our flows now take predicted ports, which a peer keeping its port dials from its srflx: it may meet ours
    expect(list.hopelessReason('S|bx')).toBeUndefined();
    // the peer's predicted flows go to their partners only
    expect(list.hopelessReason('S|bq')).toMatch(/edm/);
    expect(list.getPair('P|bq')).toBeDefined();
    expect(list.hopelessReason('P|bq')).toBeUndefined();
    list.setNatProfiles({ remote: { behindNat: false } }, 0);
    expect(list.hopelessReason('S|bq')).toBeUndefined();
  });

  it('rule 1: a private host candidate of a peer behind another NAT; the same NAT keeps it', () => {
    const host = remoteCandidate({ id: 'bh', tcpType: 'passive', address: '10.0.2.2', port: 40003 });
    const elsewhere = relayCell([host, peerSrflxSo()]);
    relaySucceeds(elsewhere, { local: { behindNat: true }, remote: { behindNat: true, mapping: 'edm' } });
    expect(elsewhere.hopelessReason('A|bh')).toMatch(/private address/);
    expect(nominated(elsewhere, 50)).toEqual(['R|relay']);

    const sameNat = relayCell([
      remoteCandidate({ id: 'bh', tcpType: 'passive', address: '10.0.1.3', port: 40003 }),
      peerSrflxSo({ address: PUBLIC_A }),
    ]);
    relaySucceeds(sameNat, { local: { behindNat: true }, remote: { behindNat: true, mapping: 'edm' } });
    expect(sameNat.hopelessReason('A|bh')).toBeUndefined();
    expect(nominated(sameNat, 50)).toEqual([]);
  });

  it('a pair the peer has reached is never hopeless, and an unknown peer profile concludes nothing', () => {
    const list = relayCell([peerSrflxSo(), peerSrflxPassive()]);
    list.setNatProfiles({ local: { behindNat: true, mapping: 'edm' } }, 0);
    expect(list.hopelessReason('S|bx')).toBeUndefined();
    expect(list.hopelessReason('A|bp')).toBeUndefined();
    list.setNatProfiles({ remote: { behindNat: true } }, 0);
    expect(list.hopelessReason('S|bx')).toMatch(/edm/);
    list.start(0);
    list.onIncomingCheck(
      {
        localCandidateId: 'S',
        remoteAddress: PUBLIC_B,
        remotePort: 40001,
        remoteTcpType: 'so',
        priority: 1,
        useCandidate: false,
        iceControlled: 1n,
      },
      10,
    );
    expect(list.hopelessReason('S|bx')).toBeUndefined();
  });
});
