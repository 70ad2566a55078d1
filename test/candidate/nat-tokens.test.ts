import { describe, expect, it } from 'vitest';
import { natTokens, parseNatTokens } from '../../src/candidate/nat-profile.js';

describe('a=x-ice-tcp-nat tokens of a port-range NAT', () => {
  it('advertises and reads `range` as the allocation', () => {
    const profile = { behindNat: true, mapping: 'edm', allocation: 'range' } as const;
    expect(natTokens(profile)).toEqual(['nat', 'edm', 'range']);
    expect(parseNatTokens(['nat', 'edm', 'range'])).toEqual(profile);
    // the first allocation token wins, as for the others
    expect(parseNatTokens(['range', 'random'])).toEqual({ allocation: 'range' });
  });
});
