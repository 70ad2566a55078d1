import type { IceRole } from '../candidate/types.js';
import { InvalidArgumentError } from '../errors.js';

/** Settings of one {@link Checklist}; all times in milliseconds. */
export interface ChecklistConfig {
  role: IceRole;
  tieBreaker: bigint;
  /** Ta between ordinary checks (RFC 8445 §14.2); the agent's default is 5, never below 1. */
  pacingMs: number;
  /** One TCP check including connection setup (the agent's default is 2500). */
  checkTimeoutMs: number;
  /**
   * How long after the peer's end-of-candidates a pair on our passive candidate may still wait for the peer
   * to connect (default: `checkTimeoutMs`, one check's time for the peer's dial to arrive).
   */
  passiveGraceMs?: number;
  /**
   * While no check of the peer has arrived (it may not hold our candidates yet), how long after its
   * end-of-candidates ICE keeps going before it can fail, checking failed pairs again meanwhile (peer-wait.ts).
   * Undefined: no such wait, failed pairs stay failed (the agent passes its `connectTimeoutMs`).
   */
  peerWaitMs?: number;
  /** RFC 8445 §6.1.2.5 limit on the number of pairs (100). */
  maxPairs: number;
  /** Controlling: how long after the first check to wait for a better pair before nominating (default 800). */
  nominationWaitMs: number;
  /** Controlling: the same wait when the best valid pair is relayed (default: `nominationWaitMs`). */
  relayNominationWaitMs?: number;
  /** How long after start to wait for the peer's end-of-candidates before assuming it (default 5000). */
  remoteEndOfCandidatesTimeoutMs: number;
  /**
   * This agent is ice-lite (RFC 8445 §2.5, §6.1.1): always controlled, it sends no checks of its own, takes a
   * pair as valid when the peer's check on it arrives and selects the pair the peer nominates; it never fails by
   * itself (the agent's `connectTimeoutMs` does). Default false.
   */
  lite?: boolean;
}

/** Overall state of the checklist (RFC 8445 §6.1.2.1, with `new` before checks start). */
export type ChecklistState = 'new' | 'running' | 'completed' | 'failed';

/** Throws an {@link InvalidArgumentError} for settings the machine cannot run with. */
export function validateChecklistConfig(config: ChecklistConfig): void {
  const atLeast = (name: keyof ChecklistConfig, value: number, min: number): void => {
    if (!Number.isFinite(value) || value < min) {
      throw new InvalidArgumentError(`checklist ${name} must be a number >= ${min}, got ${value}`);
    }
  };
  atLeast('pacingMs', config.pacingMs, 1);
  atLeast('checkTimeoutMs', config.checkTimeoutMs, 1);
  if (config.passiveGraceMs !== undefined) atLeast('passiveGraceMs', config.passiveGraceMs, 0);
  if (config.peerWaitMs !== undefined) atLeast('peerWaitMs', config.peerWaitMs, 0);
  atLeast('maxPairs', config.maxPairs, 1);
  atLeast('nominationWaitMs', config.nominationWaitMs, 0);
  if (config.relayNominationWaitMs !== undefined)
    atLeast('relayNominationWaitMs', config.relayNominationWaitMs, 0);
  atLeast('remoteEndOfCandidatesTimeoutMs', config.remoteEndOfCandidatesTimeoutMs, 0);
  if (config.role !== 'controlling' && config.role !== 'controlled') {
    throw new InvalidArgumentError(
      `checklist role must be controlling or controlled, got ${String(config.role)}`,
    );
  }
  if (config.lite && config.role !== 'controlled') {
    throw new InvalidArgumentError('a lite checklist is always controlled (RFC 8445 §6.1.1)');
  }
}
