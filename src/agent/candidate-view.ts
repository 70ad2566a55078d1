import { otherPreferenceOf } from '../candidate/factory.js';
import { candidatePriority } from '../candidate/priority.js';
import type { Candidate, LocalCandidate } from '../candidate/types.js';
import type { CandidatePair } from '../checklist/index.js';
import type { SelectedPair } from './events.js';

/** The candidate as signalled: without the agent's internal id and base. */
export function publicCandidate(c: LocalCandidate | Candidate): Candidate {
  return { ...candidateFields(c), port: c.tcpType === 'active' ? 9 : c.port };
}

/**
 * Only the {@link Candidate} fields: a remote candidate as the application sees it, without the checklist's
 * id. Its port is kept: a peer-reflexive active candidate's is the peer's real source port, not 9.
 */
export function candidateFields(c: Candidate): Candidate {
  return {
    foundation: c.foundation,
    component: c.component,
    transport: 'TCP',
    priority: c.priority,
    address: c.address,
    port: c.port,
    type: c.type,
    tcpType: c.tcpType,
    ...(c.relatedAddress !== undefined ? { relatedAddress: c.relatedAddress } : {}),
    ...(c.relatedPort !== undefined ? { relatedPort: c.relatedPort } : {}),
    extensions: [...c.extensions],
  };
}

/** The pair as the `'selected-pair'` event reports it. */
export function selectedPairOf(pair: CandidatePair): SelectedPair {
  return { local: publicCandidate(pair.local), remote: candidateFields(pair.remote) };
}

/** RFC 8445 §7.1.1: a check's PRIORITY is what a peer-reflexive candidate learned from it would get. */
export function checkPriority(pair: CandidatePair): number {
  return candidatePriority({
    type: 'prflx',
    tcpType: pair.local.tcpType,
    otherPreference: otherPreferenceOf(pair.local.priority),
  });
}
