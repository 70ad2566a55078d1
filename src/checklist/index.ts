/** The ICE-TCP checklist: pairing, checks, nomination and role conflicts as a pure state machine. */

export type { IceRole, LocalCandidate } from '../candidate/types.js';
export type { ChecklistAction, IncomingCheck, IncomingCheckResult } from './actions.js';
export { Checklist } from './checklist.js';
export type { ChecklistConfig, ChecklistState } from './config.js';
export type { CandidatePair, PairState, RemoteCandidate } from './pair.js';
export { computePairPriority } from './pair.js';
export { canPair, redundancyKey } from './pairing.js';
export { initialRole, resolveRoleConflict } from './role.js';
