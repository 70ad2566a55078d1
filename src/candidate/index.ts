/** Candidates: model, priority, foundation, SDP lines, prediction markers. */
export { computeFoundation, type FoundationInput } from './foundation.js';
export { isPredicted, PREDICTED_EXTENSION, type PredictedKind, predictedKind } from './predicted.js';
export {
  candidatePriority,
  DEFAULT_TYPE_PREFERENCES,
  directionPreference,
  type PriorityInput,
  pairPriority,
  type TypePreferences,
} from './priority.js';
export { formatCandidate, formatCandidateAttribute, parseCandidate } from './sdp.js';
export type { Candidate, CandidateType, TcpType } from './types.js';
