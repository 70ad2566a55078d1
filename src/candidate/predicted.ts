import type { Candidate } from './types.js';

/** Extension attribute marking a `typ srflx` candidate as predicted; its value is the kind. */
export const PREDICTED_EXTENSION = 'x-ice-tcp-predicted';

/**
 * How a predicted port was guessed: the NAT preserves ports, allocates them in sequence, or picks one at random
 * inside a small range (every port of the range is offered, all on one S-O port).
 */
export type PredictedKind = 'preserve' | 'sequential' | 'range';

/**
 * The prediction kind of a candidate, or undefined for an ordinary one. Predicted candidates travel
 * as `typ srflx` so that agents that do not know the extension still use them as server-reflexive.
 */
export function predictedKind(c: Candidate): PredictedKind | undefined {
  if (c.type !== 'srflx') return undefined;
  for (const [name, value] of c.extensions) {
    if (name !== PREDICTED_EXTENSION) continue;
    if (value === 'preserve' || value === 'sequential' || value === 'range') return value;
  }
  return undefined;
}

/** True when the candidate carries a recognised prediction marker. */
export function isPredicted(c: Candidate): boolean {
  return predictedKind(c) !== undefined;
}

/**
 * True for a simultaneous-open candidate at a port the NAT is predicted to give a later flow (sequential or
 * range), rather than one a STUN server saw.
 */
export function isPredictedFlowPort(c: Candidate): boolean {
  const kind = predictedKind(c);
  return c.tcpType === 'so' && (kind === 'sequential' || kind === 'range');
}
