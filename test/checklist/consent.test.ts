import { describe, expect, it } from 'vitest';
import { type ConsentAction, ConsentFreshness } from '../../src/checklist/consent.js';

const INTERVAL = 5000;
const TIMEOUT = 30_000;

/** A machine started at t=0 whose jitter factor is fixed by `r` (0 → 0.8×, 0.5 → 1×, just under 1 → 1.2×). */
function consent(r = 0.5): ConsentFreshness {
  let n = 0;
  const machine = new ConsentFreshness({
    intervalMs: INTERVAL,
    timeoutMs: TIMEOUT,
    random: () => r,
    newTransactionId: () => Buffer.alloc(12, ++n),
  });
  machine.start(0);
  return machine;
}

const types = (actions: ConsentAction[]) => actions.map((a) => a.type);

/** Polls at every wake-up the machine asks for, up to `until`, answering no check. */
function runSilent(machine: ConsentFreshness, until: number): Array<{ at: number; action: ConsentAction }> {
  const seen: Array<{ at: number; action: ConsentAction }> = [];
  for (let wake = machine.nextWakeup(); wake !== undefined && wake <= until; wake = machine.nextWakeup()) {
    for (const action of machine.poll(wake)) seen.push({ at: wake, action });
  }
  return seen;
}

describe('RFC 7675 §5.1 consent checks on the selected pair', () => {
  it('sends nothing before the first jittered interval', () => {
    const machine = consent(0.5);
    expect(machine.poll(4999)).toEqual([]);
    expect(machine.nextWakeup()).toBe(5000);
    expect(types(machine.poll(5000))).toEqual(['check']);
  });

  it('randomizes each pause uniformly in [0.8, 1.2] × the interval', () => {
    const lowest = consent(0);
    expect(lowest.nextWakeup()).toBe(0.8 * INTERVAL);
    const highest = consent(0.999_999);
    expect(highest.nextWakeup()).toBeCloseTo(1.2 * INTERVAL, 0);
    const draws = [0.1, 0.9, 0.3];
    let i = 0;
    const machine = new ConsentFreshness({
      intervalMs: INTERVAL,
      timeoutMs: TIMEOUT,
      random: () => draws[i++ % draws.length] ?? 0,
    });
    machine.start(0);
    const sentAt: number[] = [];
    for (let k = 0; k < 3; k++) {
      const wake = machine.nextWakeup() ?? Number.NaN;
      expect(types(machine.poll(wake))).toContain('check');
      machine.onSuccess(wake);
      sentAt.push(wake);
    }
    const pauses = sentAt.map((t, k) => t - (sentAt[k - 1] ?? 0));
    expect(pauses[0]).toBeCloseTo(INTERVAL * 0.84);
    expect(pauses[1]).toBeCloseTo(INTERVAL * 1.16);
    expect(pauses[2]).toBeCloseTo(INTERVAL * 0.92);
  });

  it('uses a new transaction id for every check, answered or not', () => {
    const machine = new ConsentFreshness({ intervalMs: INTERVAL, timeoutMs: TIMEOUT });
    machine.start(0);
    const ids = new Set<string>();
    for (const { action } of runSilent(machine, 25_000)) {
      if (action.type === 'check') ids.add(action.transactionId.toString('hex'));
    }
    expect(ids.size).toBe(machine.checksSent);
    expect(ids.size).toBeGreaterThanOrEqual(4);
  });

  it('keeps sending while answered, and stays fresh for as long as answers come', () => {
    const machine = consent();
    for (let t = 5000; t <= 120_000; t += 5000) {
      expect(types(machine.poll(t))).toEqual(['check']);
      machine.onSuccess(t + 10);
    }
    expect(machine.state).toBe('fresh');
    expect(machine.checksSent).toBe(24);
    expect(machine.checksAnswered).toBe(24);
  });
});

describe('RFC 7675 §5.1 expiry', () => {
  it('expires exactly consentTimeoutMs after the last authenticated success, not a millisecond earlier', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onSuccess(5020);
    const seen = runSilent(machine, 40_000);
    const lost = seen.find((s) => s.action.type === 'lost');
    expect(lost?.at).toBe(5020 + TIMEOUT);
    expect(lost?.action).toEqual({ type: 'lost', reason: 'expired', sinceSuccessMs: TIMEOUT });
    expect(machine.state).toBe('lost');
    expect(machine.nextWakeup()).toBeUndefined();
    expect(machine.poll(100_000)).toEqual([]);
  });

  it('with no answer at all, expires consentTimeoutMs after the start (ICE success is the first consent)', () => {
    const machine = consent();
    const lost = runSilent(machine, 60_000).find((s) => s.action.type === 'lost');
    expect(lost?.at).toBe(TIMEOUT);
  });

  it('a late answer to an older check still refreshes consent', () => {
    const machine = consent();
    machine.poll(5000); // check #1
    machine.poll(10_000); // check #2, #1 still unanswered
    machine.onSuccess(10_500); // #1's answer, late
    const lost = runSilent(machine, 60_000).find((s) => s.action.type === 'lost');
    expect(lost?.at).toBe(10_500 + TIMEOUT);
  });
});

describe('disconnected is transient', () => {
  it('reports disconnected once a check is unanswered for one interval, then restored on an answer', () => {
    const machine = consent();
    expect(types(machine.poll(5000))).toEqual(['check']);
    expect(machine.nextWakeup()).toBe(10_000);
    expect(types(machine.poll(9999))).toEqual([]);
    expect(types(machine.poll(10_000))).toEqual(['disconnected', 'check']);
    expect(machine.state).toBe('unanswered');
    expect(types(machine.poll(15_000))).toEqual(['check']); // keeps asking while disconnected
    machine.onSuccess(15_100);
    expect(types(machine.poll(15_100))).toEqual(['restored']);
    expect(machine.state).toBe('fresh');
  });

  it('measures the silence from the oldest check sent since the last answer', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onSuccess(5100);
    machine.poll(10_000); // unanswered from here
    const disconnected = runSilent(machine, 20_000).find((s) => s.action.type === 'disconnected');
    expect(disconnected?.at).toBe(15_000);
  });
});

describe('RFC 7675 §5.1 revocation', () => {
  it('an authenticated error response revokes consent at once', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onFailure(5010, true, 403);
    expect(machine.nextWakeup()).toBe(0);
    expect(machine.poll(5010)).toEqual([{ type: 'lost', reason: 'revoked', stunCode: 403 }]);
    expect(machine.nextWakeup()).toBeUndefined();
    machine.onSuccess(5020);
    expect(machine.poll(5020)).toEqual([]);
    expect(machine.state).toBe('lost');
  });

  it('an unauthenticated error response is ignored: consent still expires on its own clock', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onFailure(5010, false, 401);
    machine.onSuccess(6000);
    expect(machine.poll(6000)).toEqual([]);
    const lost = runSilent(machine, 60_000).find((s) => s.action.type === 'lost');
    expect(lost?.at).toBe(6000 + TIMEOUT);
  });
});

describe('a connection that cannot carry checks', () => {
  it('half-open (the peer ended its direction): a keepalive at once and one to confirm; no checks, no expiry', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onPeerEnded(5100, 40);
    expect(machine.nextWakeup()).toBe(5100);
    expect(types(machine.poll(5100))).toEqual(['keepalive']);
    expect(machine.nextWakeup()).toBe(5140);
    expect(types(machine.poll(5140))).toEqual(['keepalive']);
    expect(machine.nextWakeup()).toBeUndefined();
    expect(machine.poll(1_000_000)).toEqual([]);
    expect(machine.checksSent).toBe(1);
  });

  it('suspended (our direction ended): no checks, no keepalives, no expiry, no wake-up', () => {
    const machine = consent();
    machine.onPeerEnded(100, 40);
    machine.suspend();
    expect(machine.nextWakeup()).toBeUndefined();
    expect(machine.poll(1_000_000)).toEqual([]);
    expect(machine.checksSent).toBe(0);
  });

  it('transport lost: no more checks, consent expires on time', () => {
    const machine = consent();
    machine.poll(5000);
    machine.onSuccess(5050);
    machine.onTransportLost();
    const seen = runSilent(machine, 60_000);
    expect(seen.map((s) => s.action.type)).toEqual(['lost']);
    expect(seen[0]?.at).toBe(5050 + TIMEOUT);
  });

  it('transport lost after a long suspension: expired at once', () => {
    const machine = consent();
    machine.suspend();
    machine.onTransportLost();
    expect(machine.poll(TIMEOUT + 1)).toEqual([
      { type: 'lost', reason: 'expired', sinceSuccessMs: TIMEOUT + 1 },
    ]);
  });
});
