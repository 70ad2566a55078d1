import { describe, expect, it } from 'vitest';
import { NatEvidenceCollector } from '../../src/gather/nat-evidence.js';

const server = { host: '203.0.113.10', port: 3478 };
const seen = (baseAddress: string, basePort: number, address: string, port: number) => ({
  baseAddress,
  basePort,
  server,
  mapped: { family: 4 as const, address, port },
});

describe('NAT evidence from gathering', () => {
  it('a STUN server that sees the host address itself: no NAT', () => {
    const c = new NatEvidenceCollector();
    c.noteMapping(seen('203.0.113.21', 40000, '203.0.113.21', 40000));
    expect(c.profile()).toEqual({ behindNat: false });
  });

  it('a kept port is preserving; prediction adds sequential or random', () => {
    const kept = new NatEvidenceCollector();
    kept.noteMapping(seen('10.0.1.2', 40000, '203.0.113.1', 40000));
    expect(kept.profile()).toEqual({ behindNat: true, allocation: 'preserving' });
    const seq = new NatEvidenceCollector();
    seq.noteMapping(seen('10.0.1.2', 40000, '203.0.113.1', 20000));
    seq.noteAllocation('10.0.1.2', { kind: 'sequential', delta: -2 });
    expect(seq.profile()).toEqual({ behindNat: true, allocation: 'sequential', step: -2 });
  });

  it('a port-range NAT is advertised as range (a=x-ice-tcp-nat:nat range)', () => {
    const range = new NatEvidenceCollector();
    range.noteMapping(seen('10.0.1.2', 40000, '203.0.113.1', 20004));
    range.noteAllocation('10.0.1.2', { kind: 'range', low: 20001, high: 20009 });
    expect(range.profile()).toEqual({ behindNat: true, allocation: 'range' });
  });

  it('addresses that disagree advertise nothing; nothing measured is nothing', () => {
    const c = new NatEvidenceCollector();
    c.noteMapping(seen('10.0.1.2', 40000, '203.0.113.1', 40000));
    c.noteMapping(seen('203.0.113.21', 40001, '203.0.113.21', 40001));
    expect(c.profile()).toEqual({});
    expect(new NatEvidenceCollector().profile()).toEqual({});
  });
});
