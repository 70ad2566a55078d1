import { computeFoundation } from './foundation.js';
import { PREDICTED_EXTENSION, type PredictedKind } from './predicted.js';
import { candidatePriority } from './priority.js';
import type { CandidateType, LocalCandidate, TcpType } from './types.js';

/** What tells one local candidate from another; the factory derives the rest. */
export interface LocalCandidateInput {
  id: string;
  type: Exclude<CandidateType, 'prflx'>;
  tcpType: TcpType;
  /** The address signalled (the NAT's or relay's for srflx/relay candidates). */
  address: string;
  /** The port signalled; 9 for active candidates (RFC 6544 §4.5). */
  port: number;
  /** Where the agent really sends from (RFC 8445 §5.1.1.1). */
  baseAddress: string;
  basePort: number;
  /** 0..8191, distinct per interface or server among candidates of one type and direction. */
  otherPreference: number;
  /** The STUN/TURN server that produced it; part of the foundation (RFC 8445 §5.1.1.3). */
  serverAddress?: string;
  /** `raddr`/`rport`. */
  related?: { address: string; port: number };
  /** Marks a predicted srflx candidate: predicted type preference and the `x-ice-tcp-predicted` extension. */
  predicted?: PredictedKind;
}

/**
 * Builds a local candidate with its foundation (RFC 8445 §5.1.1.3) and priority (RFC 6544 §4.2) derived the
 * one way every gatherer must derive them.
 */
export function makeLocalCandidate(input: LocalCandidateInput): LocalCandidate {
  const { type, tcpType, baseAddress } = input;
  return {
    id: input.id,
    foundation: computeFoundation({ type, baseAddress, serverAddress: input.serverAddress, tcpType }),
    component: 1,
    transport: 'TCP',
    priority: candidatePriority({
      type,
      tcpType,
      otherPreference: input.otherPreference,
      ...(input.predicted ? { predicted: true } : {}),
    }),
    address: input.address,
    port: input.port,
    type,
    tcpType,
    ...(input.related ? { relatedAddress: input.related.address, relatedPort: input.related.port } : {}),
    extensions: input.predicted ? [[PREDICTED_EXTENSION, input.predicted]] : [],
    baseAddress,
    basePort: input.basePort,
  };
}

/** The other-preference inside a priority (RFC 6544 §4.2: bits 8..20, below the direction preference). */
export function otherPreferenceOf(priority: number): number {
  return (priority >> 8) & 0x1fff;
}
