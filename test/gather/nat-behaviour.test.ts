import { describe, expect, it } from 'vitest';
import {
  classifyAllocation,
  classifyNat,
  estimateStep,
  type NatObservation,
  predictPorts,
  RANGE_MAX_PORTS,
  rangeWindow,
} from '../../src/gather/nat-behaviour.js';

const S1 = { host: '203.0.113.10', port: 3478 };
const S2 = { host: '203.0.113.11', port: 3478 };
const obs = (localPort: number, port: number, server = S1, address = '203.0.113.1'): NatObservation => ({
  localPort,
  server,
  mapped: { address, port },
});

describe('NAT classification (RFC 5382 terms, TCP)', () => {
  it('port-preserving, endpoint-independent NAT: direct likely', () => {
    const r = classifyNat(
      '10.0.1.2',
      [obs(40000, 40000), obs(40000, 40000, S2)],
      [obs(41000, 41000), obs(41001, 41001), obs(41002, 41002)],
    );
    expect(r).toMatchObject({
      behindNat: true,
      mapping: 'endpoint-independent',
      portPreservation: true,
      allocation: { kind: 'preserving' },
      traversal: 'direct-likely',
    });
  });

  it('sequential NAT (+1): needs prediction, with its delta', () => {
    const r = classifyNat(
      '10.0.1.2',
      [obs(40000, 20000), obs(40000, 20001, S2)],
      [obs(41000, 20002), obs(41001, 20003), obs(41002, 20004)],
    );
    expect(r.mapping).toBe('endpoint-dependent');
    expect(r.allocation).toEqual({ kind: 'sequential', delta: 1 });
    expect(r.traversal).toBe('needs-prediction');
    expect(predictPorts(r.allocation, { port: 20004 }, 3)).toEqual([20005, 20006, 20007]);
  });

  it('random NAT: needs a relay', () => {
    const r = classifyNat(
      '10.0.1.2',
      [obs(40000, 51234), obs(40000, 33333, S2)],
      [obs(41000, 61000), obs(41001, 1200), obs(41002, 45000)],
    );
    expect(r.allocation).toEqual({ kind: 'random' });
    expect(r.traversal).toBe('needs-relay');
  });

  it('no NAT: mapped equals local', () => {
    const r = classifyNat(
      '203.0.113.21',
      [obs(40000, 40000, S1, '203.0.113.21')],
      [obs(41000, 41000, S1, '203.0.113.21')],
    );
    expect(r.behindNat).toBe(false);
    expect(r.allocation).toEqual({ kind: 'none' });
    expect(r.traversal).toBe('direct-likely');
  });

  it('a delta that changes is not sequential', () => {
    expect(classifyAllocation([obs(1, 100), obs(2, 101), obs(3, 103)])).toEqual({ kind: 'random' });
    expect(classifyAllocation([obs(1, 100), obs(2, 100), obs(3, 100)])).toEqual({ kind: 'random' });
  });
});

describe('the step of a sequential NAT, from the ports of one burst of probes', () => {
  it('is the delta every probe agrees on, for steps above 1 and NATs counting down', () => {
    expect(estimateStep([20000, 20001, 20002, 20003, 20004])).toBe(1);
    expect(estimateStep([20000, 20004, 20008, 20012, 20016])).toBe(4);
    expect(estimateStep([30010, 30009, 30008, 30007, 30006])).toBe(-1);
    expect(estimateStep([30020, 30017, 30014, 30011])).toBe(-3);
  });

  it('takes the majority of deltas when stray flows of other hosts fall between probes', () => {
    // one stray flow: one delta of 2 steps among four
    expect(estimateStep([20000, 20001, 20003, 20004, 20005])).toBe(1);
    expect(estimateStep([20000, 20002, 20006, 20008, 20010])).toBe(2);
    expect(estimateStep([40000, 39999, 39997, 39996, 39995])).toBe(-1);
    // two strays, or a lost probe and a stray: half the deltas, the others small multiples of the same sign
    expect(estimateStep([20000, 20001, 20003, 20004, 20007])).toBe(1);
    expect(estimateStep([20000, 20003, 20004, 20005, 20007])).toBe(1);
  });

  it('finds none in random ports, in a repeated port, or in deltas that disagree in sign or size', () => {
    expect(estimateStep([41234, 5077, 60001, 12000, 33333])).toBeUndefined();
    expect(estimateStep([20000, 20000, 20000, 20000])).toBeUndefined();
    // one agreeing pair is not a majority of four deltas, and +1/-1 are no multiples of the same sign
    expect(estimateStep([20000, 20001, 20000, 20001, 20000])).toBeUndefined();
    expect(estimateStep([20000, 20001, 20002, 20500, 21000])).toBeUndefined();
    // one delta says nothing; fewer than two probes have none
    expect(estimateStep([20000, 20001])).toBeUndefined();
    expect(estimateStep([20000])).toBeUndefined();
    expect(estimateStep([])).toBeUndefined();
  });

  it('beyond 16 ports per connection the NAT is called random, however regular', () => {
    expect(estimateStep([20000, 20017, 20034, 20051])).toBeUndefined();
    expect(estimateStep([20000, 20016, 20032, 20048])).toBe(16);
  });

  it('classifies a burst with a stray flow as sequential, predicting from the last probe', () => {
    const burst = [
      obs(41000, 20010),
      obs(41001, 20011),
      obs(41002, 20013),
      obs(41003, 20014),
      obs(41004, 20015),
    ];
    const allocation = classifyAllocation(burst);
    expect(allocation).toEqual({ kind: 'sequential', delta: 1 });
    expect(predictPorts(allocation, { port: 20015 }, 2)).toEqual([20016, 20017]);
    expect(predictPorts({ kind: 'sequential', delta: -2 }, { port: 20015 }, 2)).toEqual([20013, 20011]);
  });
});

describe('a port-range NAT (a random port per flow inside a small range), from one burst', () => {
  // the lab's range NAT: `snat to WAN:20000-20009 random`, five probes opened in one tick
  const burst = (ports: readonly number[]) => ports.map((p, i) => obs(41000 + i, p));

  it('calls five ports scattered over a few dozen a range, not random, with the span they cover', () => {
    const allocation = classifyAllocation(burst([20003, 20007, 20001, 20009, 20004]));
    expect(allocation).toEqual({ kind: 'range', low: 20001, high: 20009 });
    const r = classifyNat(
      '10.0.1.2',
      [obs(40000, 20005), obs(40000, 20002, S2)],
      burst([20008, 20000, 20006, 20002]),
    );
    expect(r.allocation).toEqual({ kind: 'range', low: 20000, high: 20008 });
    expect(r.traversal).toBe('needs-prediction');
    // a range of 32 is still one
    expect(classifyAllocation(burst([31000, 31031, 31017, 31004, 31022]))).toEqual({
      kind: 'range',
      low: 31000,
      high: 31031,
    });
  });

  it('needs four probes: a lost probe leaves four, two lost leave too few; repeats count', () => {
    expect(classifyAllocation(burst([20005, 20001, 20008, 20003]))).toMatchObject({ kind: 'range' });
    expect(classifyAllocation(burst([20005, 20001, 20008]))).toEqual({ kind: 'random' });
    // natcheck probes one after another: the NAT may hand out a port the previous probe freed
    expect(classifyAllocation(burst([20005, 20005, 20001, 20001, 20008]))).toEqual({
      kind: 'range',
      low: 20001,
      high: 20008,
    });
  });

  it('keeps a random NAT random, even one whose ports happen to cluster', () => {
    expect(classifyAllocation(burst([41234, 5077, 60001, 12000, 33333]))).toEqual({ kind: 'random' });
    // four within 32 ports and one far off: a range NAT never gives a port outside its range
    expect(classifyAllocation(burst([41000, 41010, 41020, 41031, 52000]))).toEqual({ kind: 'random' });
    // 33 ports wide
    expect(classifyAllocation(burst([41000, 41010, 41020, 41032, 41005]))).toEqual({ kind: 'random' });
    // a small range of 1000 ports (`snat to WAN:20000-20999`): no prediction dials that many
    expect(classifyAllocation(burst([20417, 20012, 20988, 20530, 20201]))).toEqual({ kind: 'random' });
  });

  it('leaves a step to sequential and kept ports to preserving', () => {
    expect(classifyAllocation(burst([20000, 20001, 20002, 20003, 20004]))).toEqual({
      kind: 'sequential',
      delta: 1,
    });
    expect(
      classifyAllocation([obs(41000, 41000), obs(41001, 41001), obs(41002, 41002), obs(41003, 41003)]),
    ).toEqual({
      kind: 'preserving',
    });
  });

  it('offers the span widened by half its width on each side, at most 32 ports, inside the port space', () => {
    // 20001-20009 (9 ports) seen: 5 more on each side, so an unseen end of the real range is covered
    expect(rangeWindow({ kind: 'range', low: 20001, high: 20009 })).toEqual(
      Array.from({ length: 19 }, (_, i) => 19996 + i),
    );
    const wide = rangeWindow({ kind: 'range', low: 31000, high: 31025 });
    expect(wide).toHaveLength(RANGE_MAX_PORTS);
    expect(wide[0]).toBe(30997);
    expect(rangeWindow({ kind: 'range', low: 31000, high: 31031 })).toEqual(
      Array.from({ length: 32 }, (_, i) => 31000 + i),
    );
    expect(rangeWindow({ kind: 'range', low: 1, high: 4 })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rangeWindow({ kind: 'range', low: 65530, high: 65535 })).toEqual(
      Array.from({ length: 9 }, (_, i) => 65527 + i),
    );
    expect(rangeWindow({ kind: 'sequential', delta: 1 })).toEqual([]);
  });
});
