import { pairPriority } from '../candidate/priority.js';
import type { Candidate, IceRole, LocalCandidate } from '../candidate/types.js';

/** One of the peer's candidates, signalled or learned as peer-reflexive. */
export interface RemoteCandidate extends Candidate {
  id: string;
}

/** RFC 8445 §6.1.2.6 candidate pair states. */
export type PairState = 'frozen' | 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/** A local and a remote candidate checked together (RFC 8445 §6.1.2). */
export interface CandidatePair {
  readonly id: string;
  readonly local: LocalCandidate;
  readonly remote: RemoteCandidate;
  priority: bigint;
  state: PairState;
  nominated: boolean;
  useCandidateReceived: boolean;
  /** `${local.foundation}:${remote.foundation}` */
  foundation: string;
  checksSent: number;
  checksReceived: number;
  rttMs?: number;
  lastCheckAt?: number;
  failureReason?: string;
  /** Failed while the peer had not checked us yet: checked again at this time (peer-wait.ts). */
  retryAt?: number;
  /** How many times the pair was checked again after failing (peer-wait.ts). */
  retries?: number;
}

/** RFC 8445 §6.1.2.3: G is the controlling agent's candidate priority, D the controlled agent's. */
export function computePairPriority(local: Candidate, remote: Candidate, role: IceRole): bigint {
  return role === 'controlling'
    ? pairPriority(local.priority, remote.priority)
    : pairPriority(remote.priority, local.priority);
}

/** The id of the pair of these two candidates. */
export function pairIdOf(local: LocalCandidate, remote: RemoteCandidate): string {
  return `${local.id}|${remote.id}`;
}

/** A new pair in the `frozen` state; the checklist decides when it thaws. */
export function createPair(local: LocalCandidate, remote: RemoteCandidate, role: IceRole): CandidatePair {
  return {
    id: pairIdOf(local, remote),
    local,
    remote,
    priority: computePairPriority(local, remote, role),
    state: 'frozen',
    nominated: false,
    useCandidateReceived: false,
    foundation: `${local.foundation}:${remote.foundation}`,
    checksSent: 0,
    checksReceived: 0,
  };
}

/** Highest priority first (RFC 8445 §6.1.2.3 ordering). */
export function byPriorityDescending(a: CandidatePair, b: CandidatePair): number {
  return a.priority === b.priority ? 0 : a.priority > b.priority ? -1 : 1;
}

/**
 * RFC 6544 §7.1: no connection can be opened from a passive candidate, so its pairs wait for the peer to
 * connect and are checked only by triggered checks.
 */
export function isPassiveLocal(pair: CandidatePair): boolean {
  return pair.local.tcpType === 'passive';
}

/** True once the peer has connected to this pair and checked it. */
export function remoteHasConnected(pair: CandidatePair): boolean {
  return pair.checksReceived > 0;
}
