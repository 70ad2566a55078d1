import { describe, expect, it } from 'vitest';
import { Checklist } from '../../src/checklist/index.js';
import { localCandidate, remoteCandidate, testConfig } from './helpers.js';

const PRIVATE_A = '10.0.1.2';
const PUBLIC_A = '203.0.113.1';
const PUBLIC_B = '203.0.113.2';
const RANGE: Array<[string, string]> = [['x-ice-tcp-predicted', 'range']];

/** Our host S-O and the peer's measured srflx S-O plus the given remotes. */
function list(): Checklist {
  const l = new Checklist(testConfig({ nominationWaitMs: 800, relayNominationWaitMs: 800 }));
  l.addLocalCandidate(localCandidate('S', { tcpType: 'so', address: PRIVATE_A, port: 40000 }), 0);
  l.addRemoteCandidate(
    remoteCandidate({ id: 'bx', tcpType: 'so', type: 'srflx', address: PUBLIC_B, port: 20005 }),
    0,
  );
  return l;
}

describe('nomination by evidence with a port-range NAT (x-ice-tcp-predicted range)', () => {
  it("rule 3 spares the range-predicted ports of a peer whose NAT says edm: one of them is its flow's", () => {
    const l = list();
    l.addRemoteCandidate(
      {
        ...remoteCandidate({ id: 'br', tcpType: 'so', type: 'srflx', address: PUBLIC_B, port: 20003 }),
        foundation: 'range20003',
        extensions: RANGE,
      },
      0,
    );
    l.setNatProfiles({ remote: { behindNat: true, mapping: 'edm', allocation: 'range' } }, 0);
    expect(l.hopelessReason('S|bx')).toMatch(/edm/);
    expect(l.hopelessReason('S|br')).toBeUndefined();
  });

  it('rule 4 spares our S-O towards a NATed peer once we offer a range: the peer dials every port of it', () => {
    const l = list();
    l.setNatProfiles(
      { local: { behindNat: true, mapping: 'edm', allocation: 'range' }, remote: { behindNat: true } },
      0,
    );
    expect(l.hopelessReason('S|bx')).toMatch(/edm/);
    l.addLocalCandidate(
      {
        ...localCandidate('P', {
          tcpType: 'so',
          type: 'srflx',
          address: PUBLIC_A,
          port: 20004,
          baseAddress: PRIVATE_A,
          basePort: 40000,
        }),
        extensions: RANGE,
      },
      0,
    );
    expect(l.hopelessReason('S|bx')).toBeUndefined();
    // the predicted candidate shares the S-O port: its pair opens the same connection and is pruned
    expect(l.pairs().map((p) => p.id)).toEqual(['S|bx']);
  });
});
