import { describe, expect, it } from 'vitest';
import {
  candidatePriority,
  DEFAULT_TYPE_PREFERENCES,
  directionPreference,
  pairPriority,
} from '../../src/candidate/priority.js';
import type { CandidateType, TcpType } from '../../src/candidate/types.js';

describe('directionPreference (RFC 6544 §4.2)', () => {
  const cases: Array<[CandidateType, TcpType, number]> = [
    ['host', 'active', 6],
    ['host', 'passive', 4],
    ['host', 'so', 2],
    ['relay', 'active', 6],
    ['relay', 'passive', 4],
    ['relay', 'so', 2],
    ['srflx', 'so', 6],
    ['srflx', 'active', 4],
    ['srflx', 'passive', 2],
    ['prflx', 'so', 6],
    ['prflx', 'active', 4],
    ['prflx', 'passive', 2],
  ];
  it.each(cases)('%s %s -> %d', (type, tcpType, expected) => {
    expect(directionPreference(type, tcpType)).toBe(expected);
  });
});

describe('candidatePriority', () => {
  it('uses the default type preferences', () => {
    expect(DEFAULT_TYPE_PREFERENCES).toEqual({ host: 126, prflx: 110, srflx: 100, predicted: 50, relay: 0 });
  });

  it('follows 2^24*type + 2^8*(2^13*dir + other) + (256 - component)', () => {
    expect(candidatePriority({ type: 'host', tcpType: 'active', otherPreference: 0 })).toBe(
      126 * 2 ** 24 + (6 << 13) * 2 ** 8 + 255,
    );
    expect(candidatePriority({ type: 'srflx', tcpType: 'so', otherPreference: 7, component: 2 })).toBe(
      100 * 2 ** 24 + ((6 << 13) + 7) * 2 ** 8 + 254,
    );
    expect(candidatePriority({ type: 'relay', tcpType: 'passive', otherPreference: 8191 })).toBe(
      0 * 2 ** 24 + ((4 << 13) + 8191) * 2 ** 8 + 255,
    );
  });

  it('ranks predicted candidates between srflx and relay, with NAT-assisted direction order', () => {
    const predicted = candidatePriority({
      type: 'srflx',
      tcpType: 'so',
      predicted: true,
      otherPreference: 0,
    });
    expect(predicted).toBe(50 * 2 ** 24 + (6 << 13) * 2 ** 8 + 255);
    expect(predicted).toBeLessThan(
      candidatePriority({ type: 'srflx', tcpType: 'passive', otherPreference: 0 }),
    );
    expect(predicted).toBeGreaterThan(
      candidatePriority({ type: 'relay', tcpType: 'active', otherPreference: 8191 }),
    );
  });

  it('orders host > prflx > srflx > relay whatever the direction', () => {
    const best = (type: CandidateType) =>
      Math.max(
        ...(['active', 'passive', 'so'] as const).map((t) =>
          candidatePriority({ type, tcpType: t, otherPreference: 8191 }),
        ),
      );
    const worst = (type: CandidateType) =>
      Math.min(
        ...(['active', 'passive', 'so'] as const).map((t) =>
          candidatePriority({ type, tcpType: t, otherPreference: 0 }),
        ),
      );
    expect(worst('host')).toBeGreaterThan(best('prflx'));
    expect(worst('prflx')).toBeGreaterThan(best('srflx'));
    expect(worst('srflx')).toBeGreaterThan(best('relay'));
  });

  it('honours custom type preferences', () => {
    const typePreferences = { ...DEFAULT_TYPE_PREFERENCES, relay: 5 };
    expect(candidatePriority({ type: 'relay', tcpType: 'active', otherPreference: 0, typePreferences })).toBe(
      5 * 2 ** 24 + (6 << 13) * 2 ** 8 + 255,
    );
  });

  it('rejects an otherPreference outside 0..8191 with ERR_INVALID_ARGUMENT', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    for (const otherPreference of [8192, -1, 1.5]) {
      expect(() => candidatePriority({ type: 'host', tcpType: 'so', otherPreference })).toThrow(invalid);
    }
  });

  it('stays within 1..2^31-1', () => {
    const top = candidatePriority({ type: 'host', tcpType: 'active', otherPreference: 8191, component: 1 });
    expect(top).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe('pairPriority (RFC 8445 §6.1.2.3)', () => {
  const formula = (g: number, d: number) =>
    2n ** 32n * BigInt(Math.min(g, d)) + 2n * BigInt(Math.max(g, d)) + (g > d ? 1n : 0n);

  it('matches the formula', () => {
    expect(pairPriority(10, 20)).toBe(formula(10, 20));
    expect(pairPriority(20, 10)).toBe(formula(20, 10));
    expect(pairPriority(7, 7)).toBe(formula(7, 7));
    expect(pairPriority(2 ** 31 - 1, 2 ** 31 - 2)).toBe(formula(2 ** 31 - 1, 2 ** 31 - 2));
  });

  it('breaks ties in favour of the controlling side having the higher priority', () => {
    expect(pairPriority(20, 10) - pairPriority(10, 20)).toBe(1n);
  });

  it('is exact beyond 2^53', () => {
    expect(pairPriority(2 ** 31 - 1, 2 ** 31 - 1)).toBe((2n ** 31n - 1n) * (2n ** 32n + 2n));
  });
});
