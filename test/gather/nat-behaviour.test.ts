import { describe, expect, it } from 'vitest';
import {
  classifyAllocation,
  classifyNat,
  type NatObservation,
  predictPorts,
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
    expect(predictPorts(r.allocation, { family: 4, address: '203.0.113.1', port: 20004 }, 3)).toEqual([
      20005, 20006, 20007,
    ]);
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
