import { InvalidArgumentError } from '../errors.js';
import type { CandidateType, TcpType } from './types.js';

/** RFC 8445 §5.1.2.2 recommended type preferences; predicted sits between srflx and relay. */
export interface TypePreferences {
  host: number;
  prflx: number;
  srflx: number;
  predicted: number;
  relay: number;
}

/** Default type preferences (RFC 8445 §5.1.2.2; predicted is ice-tcp's own, between srflx and relay). */
export const DEFAULT_TYPE_PREFERENCES: Readonly<TypePreferences> = Object.freeze({
  host: 126,
  prflx: 110,
  srflx: 100,
  predicted: 50,
  relay: 0,
});

/** What decides a candidate's priority. */
export interface PriorityInput {
  type: CandidateType;
  tcpType: TcpType;
  /** True for predicted candidates (they travel as `typ srflx`). */
  predicted?: boolean;
  /** 0..8191; must differ between candidates sharing type and direction (one per interface). */
  otherPreference: number;
  /** Component id, 1..256. */
  component?: number;
  typePreferences?: Readonly<TypePreferences>;
}

/**
 * RFC 6544 §4.2 direction preference. Host, relayed (and UDP-tunnelled) candidates prefer
 * active (6) > passive (4) > so (2); NAT-assisted ones (srflx, prflx, predicted) prefer
 * so (6) > active (4) > passive (2), because only S-O gets through a NAT without help.
 */
export function directionPreference(type: CandidateType, tcpType: TcpType): number {
  const natAssisted = type === 'srflx' || type === 'prflx';
  if (natAssisted) return tcpType === 'so' ? 6 : tcpType === 'active' ? 4 : 2;
  return tcpType === 'active' ? 6 : tcpType === 'passive' ? 4 : 2;
}

/** RFC 8445 §5.1.2.1 priority with RFC 6544 §4.2 local preference. */
export function candidatePriority(input: PriorityInput): number {
  const prefs = input.typePreferences ?? DEFAULT_TYPE_PREFERENCES;
  const component = input.component ?? 1;
  if (!Number.isInteger(input.otherPreference) || input.otherPreference < 0 || input.otherPreference > 8191) {
    throw new InvalidArgumentError(
      `otherPreference must be an integer in 0..8191, got ${input.otherPreference}`,
    );
  }
  const typePref = input.predicted ? prefs.predicted : prefs[input.type];
  const localPref = (directionPreference(input.type, input.tcpType) << 13) + input.otherPreference;
  return typePref * 2 ** 24 + localPref * 2 ** 8 + (256 - component);
}

/**
 * RFC 8445 §6.1.2.3 pair priority, 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), as a bigint
 * because it exceeds 2^53. G is the controlling agent's candidate priority, D the controlled's.
 */
export function pairPriority(controllingPriority: number, controlledPriority: number): bigint {
  const g = BigInt(controllingPriority);
  const d = BigInt(controlledPriority);
  const min = g < d ? g : d;
  const max = g < d ? d : g;
  return (min << 32n) + 2n * max + (g > d ? 1n : 0n);
}
