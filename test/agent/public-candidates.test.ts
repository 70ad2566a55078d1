import { afterEach, describe, expect, it } from 'vitest';
import type { Candidate, SelectedPair } from '../../src/index.js';
import { agentPair } from './helpers.js';

/** The fields of a {@link Candidate}; anything else on a public candidate is the agent's bookkeeping leaking. */
const CANDIDATE_KEYS = new Set([
  'foundation',
  'component',
  'transport',
  'priority',
  'address',
  'port',
  'type',
  'tcpType',
  'relatedAddress',
  'relatedPort',
  'extensions',
]);

function extraKeys(c: Candidate): string[] {
  return Object.keys(c).filter((k) => !CANDIDATE_KEYS.has(k));
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

describe('candidates handed to the application', () => {
  it('carry no internal id or base, remote ones included (signalled and peer-reflexive)', async () => {
    const p = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['passive'] },
    );
    cleanup.push(() => p.close());
    const signalledByBob: Candidate[] = [];
    p.bob.on('candidate', (c) => c && signalledByBob.push(c));
    const selected: Record<'alice' | 'bob', SelectedPair[]> = { alice: [], bob: [] };
    p.alice.on('selected-pair', (s) => selected.alice.push(s));
    p.bob.on('selected-pair', (s) => selected.bob.push(s));

    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);

    for (const c of [ca.localCandidate, ca.remoteCandidate, cb.localCandidate, cb.remoteCandidate]) {
      expect(extraKeys(c)).toEqual([]);
    }
    for (const s of [...selected.alice, ...selected.bob]) {
      expect(extraKeys(s.local)).toEqual([]);
      expect(extraKeys(s.remote)).toEqual([]);
    }
    expect(selected.alice).toHaveLength(1);
    expect(selected.bob).toHaveLength(1);
    // Alice's remote is Bob's passive candidate exactly as Bob signalled it.
    expect(ca.remoteCandidate).toEqual(signalledByBob.find((c) => c.tcpType === 'passive'));
    expect(selected.alice[0]?.remote).toEqual(ca.remoteCandidate);
    // Bob learned Alice's active end as peer-reflexive: its real source port stays (not the signalled 9).
    expect(cb.remoteCandidate).toMatchObject({
      type: 'prflx',
      tcpType: 'active',
      port: cb.remoteAddress.port,
    });
    expect(selected.bob[0]?.remote).toEqual(cb.remoteCandidate);
  });
});
