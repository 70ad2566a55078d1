import { describe, expect, it } from 'vitest';
import { Checklist } from '../../src/checklist/index.js';
import { retryDelayMs } from '../../src/checklist/peer-wait.js';
import { checks, localCandidate, remoteCandidate, testConfig } from './helpers.js';

const WAIT_MS = 30_000;

/** One active-to-passive pair, both sides' candidates complete at t=0, its first check sent. */
function checkedPair(peerWaitMs: number | 'none' = WAIT_MS): Checklist {
  const list = new Checklist(testConfig(peerWaitMs === 'none' ? {} : { peerWaitMs }));
  list.addLocalCandidate(localCandidate('L', { tcpType: 'active' }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'R', tcpType: 'passive' }), 0);
  list.setLocalGatheringComplete(0);
  list.setRemoteEndOfCandidates(0);
  list.start(0);
  list.poll(0);
  return list;
}

/** The same, its check refused at t=10. */
function refusedPair(peerWaitMs: number | 'none' = WAIT_MS): Checklist {
  const list = checkedPair(peerWaitMs);
  list.onCheckFailure('L|R', 10, 'ECONNREFUSED');
  list.poll(10);
  return list;
}

const incoming = {
  localCandidateId: 'P',
  remoteAddress: '10.0.0.1',
  remotePort: 40000,
  remoteTcpType: 'active' as const,
  priority: 1,
  useCandidate: false,
  iceControlled: 5n,
};

describe('waiting for a peer that has not checked us yet (it may get our candidates late)', () => {
  it('pauses 1, 2 and 4 s before checking a failed pair again, then every 8 s', () => {
    expect([0, 1, 2, 3, 4, 9].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('checks the failed pair again after each pause instead of failing', () => {
    const list = refusedPair();
    expect(list.state).toBe('running');
    expect(list.nextWakeup()).toBe(1010);
    expect(checks(list.poll(1009))).toEqual([]);
    expect(checks(list.poll(1010))).toEqual([
      { type: 'check', pairId: 'L|R', useCandidate: false, triggered: false },
    ]);
    list.onCheckFailure('L|R', 1020, 'ECONNREFUSED');
    list.poll(1020);
    expect(list.getPair('L|R')).toMatchObject({ state: 'failed', retries: 1 });
    expect(checks(list.poll(3019))).toEqual([]);
    expect(checks(list.poll(3020))).toHaveLength(1);
  });

  it('fails once the wait is over, counted from the peer end-of-candidates, and checks nothing more', () => {
    const list = refusedPair();
    let now = 10;
    while (list.state === 'running') {
      now = list.nextWakeup() as number;
      for (const action of list.poll(now)) {
        if (action.type === 'check') list.onCheckFailure(action.pairId, now, 'ETIMEDOUT');
      }
      list.poll(now);
    }
    expect(now).toBe(WAIT_MS);
    expect(list.state).toBe('failed');
    expect(list.getPair('L|R')?.retries).toBeGreaterThanOrEqual(5);
  });

  it("stops waiting at the peer's first check: it holds our candidates, and the usual rules apply", () => {
    const list = refusedPair();
    list.addLocalCandidate(localCandidate('P', { tcpType: 'passive', port: 50010, foundation: 'p' }), 20);
    list.onIncomingCheck(incoming, 500);
    list.poll(500);
    // the pair the peer's check made is triggered and answered; once it fails too, nothing is left to wait for
    const triggered = checks(list.poll(505));
    for (const c of triggered) list.onCheckFailure(c.pairId, 600, 'ECONNRESET');
    list.poll(600);
    expect(checks(list.poll(1010))).toEqual([]);
    // a passive pair gets its grace from the peer's first check (500), not from its end-of-candidates (0)
    expect(list.poll(500 + 2500).filter((a) => a.type === 'failed')).toHaveLength(1);
  });

  it('does not check again a pair the peer answered with an error: it is there and said no', () => {
    const list = checkedPair();
    list.onCheckFailure('L|R', 10, 'error 400 Bad Request', true);
    list.poll(10);
    expect(list.getPair('L|R')?.retryAt).toBeUndefined();
    expect(checks(list.poll(5000))).toEqual([]);
  });

  it('without peerWaitMs a failed pair stays failed and ICE fails at once, as before', () => {
    const list = refusedPair('none');
    expect(list.state).toBe('failed');
  });

  it("keeps an S-O check towards the peer's reflexive candidate open until the wait ends", () => {
    const list = new Checklist(testConfig({ peerWaitMs: WAIT_MS }));
    list.addLocalCandidate(localCandidate('S', { tcpType: 'so', port: 50020 }), 0);
    list.addRemoteCandidate(
      remoteCandidate({ id: 'X', tcpType: 'so', type: 'srflx', address: '203.0.113.1', port: 41000 }),
      0,
    );
    list.addRemoteCandidate(remoteCandidate({ id: 'H', tcpType: 'so', port: 41001, foundation: 'h' }), 0);
    list.setLocalGatheringComplete(0);
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    const sent = [...checks(list.poll(0)), ...checks(list.poll(5)), ...checks(list.poll(10))];
    // the SYN towards the reflexive candidate lives until the peer could have started: a new socket from the
    // same port would answer the peer's SYN with another sequence number, which our NAT drops
    const kept = sent.find((c) => c.pairId === 'S|X');
    expect(kept?.timeoutMs).toBeGreaterThan(WAIT_MS - 20);
    expect(kept?.timeoutMs).toBeLessThanOrEqual(WAIT_MS);
    // towards a host candidate nothing crosses a NAT: the usual check time, then checked again
    expect(sent.find((c) => c.pairId === 'S|H')).not.toHaveProperty('timeoutMs');
    list.poll(2510);
    expect(list.getPair('S|X')?.state).toBe('in-progress');
  });
  it("a kept S-O SYN stops holding its foundation after a check's time: the spare port's pair thaws", () => {
    const list = new Checklist(testConfig({ peerWaitMs: WAIT_MS }));
    // the primary S-O port and a spare one, in one foundation (gather/spare-so.ts), towards one srflx candidate
    list.addLocalCandidate(
      localCandidate('S', { tcpType: 'so', port: 50020, foundation: 'so', otherPreference: 2 }),
      0,
    );
    list.addLocalCandidate(
      localCandidate('T', { tcpType: 'so', port: 50021, foundation: 'so', otherPreference: 1 }),
      0,
    );
    list.addRemoteCandidate(
      remoteCandidate({ id: 'X', tcpType: 'so', type: 'srflx', address: '203.0.113.1', port: 41000 }),
      0,
    );
    list.setLocalGatheringComplete(0);
    list.setRemoteEndOfCandidates(0);
    list.start(0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['S|X']);
    expect(list.getPair('T|X')?.state).toBe('frozen');
    expect(checks(list.poll(2499))).toEqual([]);
    // a lock-out of the primary 5-tuple must not hold the connection: the spare's pair goes out, the primary stays
    const spare = checks(list.poll(2500));
    expect(spare.map((c) => c.pairId)).toEqual(['T|X']);
    expect(list.getPair('S|X')?.state).toBe('in-progress');
  });
});
