import { describe, expect, it } from 'vitest';
import { PREDICTED_EXTENSION } from '../../src/candidate/predicted.js';
import { candidatePriority } from '../../src/candidate/priority.js';
import type { Candidate } from '../../src/candidate/types.js';
import { Checklist, type LocalCandidate } from '../../src/checklist/index.js';
import { partnerRank, sequentialRanks } from '../../src/checklist/sequential.js';
import { checks, localCandidate, remoteCandidate, testConfig } from './helpers.js';

const LOCAL_PUBLIC = '198.51.100.1';
const REMOTE_PUBLIC = '198.51.100.2';
const PREDICTED_PRIORITY = candidatePriority({
  type: 'srflx',
  tcpType: 'so',
  predicted: true,
  otherPreference: 0,
});

/** Our predicted candidate #port on its own S-O base port, its own foundation (as the gatherer makes them). */
function localPredicted(port: number): LocalCandidate {
  return {
    ...localCandidate(`LP${port}`, {
      tcpType: 'so',
      type: 'srflx',
      address: LOCAL_PUBLIC,
      port,
      foundation: `lp${port}`,
      priority: PREDICTED_PRIORITY,
      baseAddress: '10.0.1.2',
      basePort: 40000 + port,
    }),
    extensions: [[PREDICTED_EXTENSION, 'sequential']],
  };
}

function remotePredicted(port: number): Candidate & { id: string } {
  return {
    ...remoteCandidate({
      id: `RP${port}`,
      tcpType: 'so',
      type: 'srflx',
      address: REMOTE_PUBLIC,
      port,
      foundation: `rp${port}`,
      priority: PREDICTED_PRIORITY,
    }),
    id: `RP${port}`,
    extensions: [[PREDICTED_EXTENSION, 'sequential']],
  };
}

/** Local host S-O (the agent's first, best candidate) plus predicted ports 20004..; nothing remote yet. */
function sequentialLocal(ports: readonly number[], overrides = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('L-so', { tcpType: 'so', address: '10.0.1.2', port: 30000 }), 0);
  for (const p of ports) list.addLocalCandidate(localPredicted(p), 0);
  return list;
}

/** The peer's srflx S-O candidate: pairs with it outrank every predicted pair. */
const remoteSrflx = () =>
  remoteCandidate({ id: 'R-srflx', tcpType: 'so', type: 'srflx', address: REMOTE_PUBLIC, port: 20000 });

const predictedPairIds = (list: Checklist) =>
  list
    .pairs()
    .filter((p) => p.local.id.startsWith('LP') && p.remote.id.startsWith('RP'))
    .map((p) => p.id)
    .sort();

/** Polls every millisecond from `from` to `to` and returns the pair ids of the checks, in order. */
function checksBetween(list: Checklist, from: number, to: number): string[] {
  const ids: string[] = [];
  for (let t = from; t <= to; t++) ids.push(...checks(list.poll(t)).map((c) => c.pairId));
  return ids;
}

describe('sequentialRanks', () => {
  it('ranks predicted candidates by advertised port per public address, ignoring the others', () => {
    const a = remotePredicted(20006);
    const b = remotePredicted(20004);
    const c = remotePredicted(20005);
    const other = { ...remotePredicted(31000), address: '192.0.2.9' };
    const plain = { ...remotePredicted(20001), extensions: [] as Array<[string, string]> };
    const ranks = sequentialRanks([a, b, c, other, plain]);
    expect([ranks.get(b), ranks.get(c), ranks.get(a), ranks.get(other), ranks.get(plain)]).toEqual([
      1,
      2,
      3,
      1,
      undefined,
    ]);
  });
});

describe('partnerRank', () => {
  it('meets at #1 with no stray flow, and survives up to 3 stray flows in total with 8 ports', () => {
    // controlling flow i has port #(i+mA), controlled flow j has #(j+mB); they meet if each dials the other
    const meets = (mA: number, mB: number) => {
      for (let i = 1; i <= 8; i++) {
        for (let j = 1; j <= 8; j++) {
          const towardsB = partnerRank(i, 'controlling');
          const towardsA = partnerRank(j, 'controlled');
          const portsExist = i + mA <= 8 && j + mB <= 8 && towardsA <= 8;
          if (portsExist && towardsB === j + mB && towardsA === i + mA) return [i, j];
        }
      }
      return undefined;
    };
    expect(meets(0, 0)).toEqual([1, 1]);
    for (const [mA, mB] of [
      [1, 0],
      [0, 1],
      [2, 1],
      [0, 3],
      [3, 0],
    ] as const) {
      expect(meets(mA, mB), `${mA}+${mB}`).toEqual([mA + mB + 1 + mB, mA + mB + 1]);
    }
    expect(meets(4, 0)).toBeUndefined();
  });
});

describe('sequential port prediction on both sides: partner pairing', () => {
  it('controlling: pairs predicted #k only with the peer #k, and keeps their pairs with other candidates', () => {
    const list = sequentialLocal([20004, 20005, 20006]);
    list.addRemoteCandidate(remoteSrflx(), 0);
    for (const p of [20104, 20105, 20106]) list.addRemoteCandidate(remotePredicted(p), 0);
    expect(predictedPairIds(list)).toEqual(['LP20004|RP20104', 'LP20005|RP20105', 'LP20006|RP20106']);
    // towards a port-preserving peer every predicted port still dials its srflx candidate
    expect(list.pairs().filter((p) => p.remote.id === 'R-srflx')).toHaveLength(4);
    // and our host S-O candidate still dials every predicted port of the peer
    expect(list.pairs().filter((p) => p.local.id === 'L-so' && p.remote.id.startsWith('RP'))).toHaveLength(3);
  });

  it('derives k from the ports, whatever order the candidates arrive in', () => {
    const list = new Checklist(testConfig());
    list.addRemoteCandidate(remotePredicted(20106), 0);
    list.addLocalCandidate(localPredicted(20005), 0);
    list.addLocalCandidate(localPredicted(20004), 0);
    list.addRemoteCandidate(remotePredicted(20104), 0);
    list.addRemoteCandidate(remotePredicted(20105), 0);
    list.addLocalCandidate(localPredicted(20006), 0);
    expect(predictedPairIds(list)).toEqual(['LP20004|RP20104', 'LP20005|RP20105', 'LP20006|RP20106']);
  });

  it('controlled: pairs predicted #j only with the peer #(2j-1), and re-pairs after a role switch', () => {
    const list = new Checklist(testConfig({ role: 'controlled', tieBreaker: 10n }));
    for (const p of [20004, 20005, 20006, 20007, 20008]) list.addLocalCandidate(localPredicted(p), 0);
    for (const p of [20104, 20105, 20106, 20107, 20108, 20109, 20110, 20111])
      list.addRemoteCandidate(remotePredicted(p), 0);
    expect(predictedPairIds(list)).toEqual([
      'LP20004|RP20104',
      'LP20005|RP20106',
      'LP20006|RP20108',
      'LP20007|RP20110',
    ]);
    // the peer is controlled too and our tie-breaker is larger: we become controlling
    const result = list.onIncomingCheck(
      {
        localCandidateId: 'LP20004',
        remoteAddress: REMOTE_PUBLIC,
        remotePort: 20104,
        remoteTcpType: 'so',
        priority: 1,
        useCandidate: false,
        iceControlled: 5n,
      },
      1,
    );
    expect(result.response).toBe('success');
    expect(list.role).toBe('controlling');
    // the pair the peer reached stays; every other one follows the new partner rule
    expect(predictedPairIds(list)).toEqual([
      'LP20004|RP20104',
      'LP20005|RP20105',
      'LP20006|RP20106',
      'LP20007|RP20107',
      'LP20008|RP20108',
    ]);
  });

  it('keeps a pair that left the diagonal once it is busy', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localPredicted(20004), 0);
    list.addRemoteCandidate(remotePredicted(20105), 0);
    list.addRemoteCandidate({ ...remotePredicted(20200), address: '192.0.2.9', id: 'other' }, 0);
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    const first = checks(list.poll(0)).map((c) => c.pairId);
    expect(first).toEqual(['LP20004|RP20105']);
    // a lower port arrives late: 20105 becomes #2, but its check is under way
    list.addRemoteCandidate(remotePredicted(20104), 1);
    expect(predictedPairIds(list)).toEqual(['LP20004|RP20104', 'LP20004|RP20105']);
  });
});

describe('sequential port prediction on both sides: diagonal pairs first', () => {
  it('holds every ordinary check until the peer end-of-candidates, then checks the diagonal in rising k', () => {
    const list = sequentialLocal([20006, 20004, 20005]);
    list.start(0);
    list.addRemoteCandidate(remoteSrflx(), 0);
    // the host S-O pair outranks the predicted ones, and would take the NAT port predicted #1 stands for
    expect(checks(list.poll(0))).toEqual([]);
    for (const p of [20104, 20105, 20106]) list.addRemoteCandidate(remotePredicted(p), 3);
    expect(checks(list.poll(3))).toEqual([]);
    expect(list.nextWakeup()).toBe(5000);
    list.setRemoteEndOfCandidates(7);
    expect(list.nextWakeup()).toBe(7);
    const sent = checksBetween(list, 7, 60);
    expect(sent.slice(0, 3)).toEqual(['LP20004|RP20104', 'LP20005|RP20105', 'LP20006|RP20106']);
    // paced at Ta like any check, and only then the rest, best first
    expect(sent[3]).toBe('L-so|R-srflx');
    expect(list.pairs().find((p) => p.id === 'LP20005|RP20105')?.lastCheckAt).toBe(12);
  });

  it('checks the diagonal pairs even when they are frozen', () => {
    const list = new Checklist(testConfig());
    // one foundation for all predicted ports (another implementation could do that): all but one start frozen
    for (const p of [20004, 20005]) list.addLocalCandidate({ ...localPredicted(p), foundation: 'lp' }, 0);
    for (const p of [20104, 20105]) list.addRemoteCandidate({ ...remotePredicted(p), foundation: 'rp' }, 0);
    expect(list.pairs().map((p) => p.state)).toContain('frozen');
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    expect(checksBetween(list, 0, 5)).toEqual(['LP20004|RP20104', 'LP20005|RP20105']);
  });

  it('stops holding at the end-of-candidates timeout when the peer never says it is done', () => {
    const list = sequentialLocal([20004], { remoteEndOfCandidatesTimeoutMs: 300 });
    list.start(0);
    list.addRemoteCandidate(remotePredicted(20104), 0);
    expect(checksBetween(list, 0, 299)).toEqual([]);
    expect(list.nextWakeup()).toBe(300);
    expect(checks(list.poll(300)).map((c) => c.pairId)).toEqual(['LP20004|RP20104']);
  });

  it('without a predicting peer, checks by priority once the peer is done', () => {
    const list = sequentialLocal([20004, 20005]);
    list.addRemoteCandidate(remoteSrflx(), 0);
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    expect(checksBetween(list, 0, 0)).toEqual(['L-so|R-srflx']);
  });

  it('does not hold an agent without predicted candidates', () => {
    const list = new Checklist(testConfig());
    list.addLocalCandidate(localCandidate('L-so', { tcpType: 'so', address: '10.0.1.2', port: 30000 }), 0);
    list.start(0);
    list.addRemoteCandidate(remoteSrflx(), 0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['L-so|R-srflx']);
  });

  it('never holds triggered checks: they answer the peer on its own connection', () => {
    const list = sequentialLocal([20004]);
    list.start(0);
    const remote = list.addRemoteCandidate(remoteSrflx(), 0);
    const result = list.onIncomingCheck(
      {
        localCandidateId: 'L-so',
        remoteAddress: remote.address,
        remotePort: remote.port,
        remoteTcpType: 'so',
        priority: 1,
        useCandidate: false,
        iceControlled: 1n,
      },
      1,
    );
    expect(result.response).toBe('success');
    expect(checks(list.poll(1))).toEqual([
      { type: 'check', pairId: 'L-so|R-srflx', useCandidate: false, triggered: true },
    ]);
  });
});
