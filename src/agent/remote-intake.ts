import { natTokenList } from '../candidate/nat-profile.js';
import { formatCandidate, parseCandidate } from '../candidate/sdp.js';
import type { Candidate } from '../candidate/types.js';
import type { Checklist } from '../checklist/index.js';
import { CandidateLimitError, InvalidArgumentError } from '../errors.js';
import type { IceParameters } from './credentials.js';

/**
 * The peer's candidates of one generation: parsed, counted against `maxRemoteCandidates` (a line sent twice
 * counts once), and held until the generation's checklist exists. A restart starts a new intake.
 */
export class RemoteIntake {
  private readonly lines = new Set<string>();
  private readonly pending: Candidate[] = [];
  /** The peer signalled end-of-candidates. */
  ended = false;

  constructor(private readonly maxRemoteCandidates: number) {}

  /** Parses the candidate (`CandidateParseError`) and counts it (`CandidateLimitError` past the limit). */
  admit(candidate: string | Candidate): Candidate {
    const parsed =
      typeof candidate === 'string' ? parseCandidate(candidate) : parseCandidate(formatCandidate(candidate));
    const key = formatCandidate(parsed);
    if (!this.lines.has(key)) {
      if (this.lines.size >= this.maxRemoteCandidates)
        throw new CandidateLimitError(this.maxRemoteCandidates);
      this.lines.add(key);
    }
    return parsed;
  }

  /** Keeps an admitted candidate for the checklist to come. */
  hold(candidate: Candidate): void {
    this.pending.push(candidate);
  }

  /** Gives a new checklist what came before it, end-of-candidates last. */
  replayInto(checklist: Checklist, now: number): void {
    for (const c of this.pending.splice(0)) checklist.addRemoteCandidate(c, now);
    if (this.ended) checklist.setRemoteEndOfCandidates(now);
  }
}

/** `null` or an `a=end-of-candidates` line: the peer has no more candidates. */
export function isEndOfCandidates(candidate: string | Candidate | null): candidate is string | null {
  return (
    candidate === null ||
    (typeof candidate === 'string' && /^(a=)?end-of-candidates\s*$/.test(candidate.trim()))
  );
}

/**
 * The addresses a candidate's connections may come from (`permitRemote`): its own, and for a relay candidate
 * its raddr, since a peer behind a NAT reaches our relay from its public IP.
 */
export function permittedAddresses(candidate: Candidate): string[] {
  const addresses = [candidate.address];
  if (candidate.type === 'relay' && candidate.relatedAddress !== undefined)
    addresses.push(candidate.relatedAddress);
  return addresses;
}

/** The peer's ufrag and pwd, checked (RFC 8445 §5.3); `InvalidArgumentError` otherwise. */
export function checkRemoteParameters(parameters: {
  ufrag: string;
  pwd: string;
  lite?: boolean;
  nat?: readonly unknown[];
}): IceParameters {
  if (!parameters || typeof parameters.ufrag !== 'string' || typeof parameters.pwd !== 'string') {
    throw new InvalidArgumentError('remote parameters need string ufrag and pwd');
  }
  if (!/^[A-Za-z0-9+/]{4,256}$/.test(parameters.ufrag) || !/^[A-Za-z0-9+/]{22,256}$/.test(parameters.pwd)) {
    throw new InvalidArgumentError('remote ufrag must be >= 4 and pwd >= 22 ice-chars (RFC 8445 §5.3)');
  }
  if (parameters.lite !== undefined && typeof parameters.lite !== 'boolean') {
    throw new InvalidArgumentError('remote parameters lite must be a boolean');
  }
  // the NAT tokens are advice: odd ones are dropped, never an error
  const nat = Array.isArray(parameters.nat) ? { nat: natTokenList(parameters.nat) } : {};
  return parameters.lite
    ? { ufrag: parameters.ufrag, pwd: parameters.pwd, lite: true, ...nat }
    : { ufrag: parameters.ufrag, pwd: parameters.pwd, ...nat };
}
