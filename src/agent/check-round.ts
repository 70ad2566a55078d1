import { formatNatLine, type NatProfile, natTokens, parseNatTokens } from '../candidate/nat-profile.js';
import type { Checklist } from '../checklist/index.js';
import type { LocalEndpoint } from '../gather/index.js';
import { PairLog } from './pair-log.js';
import { PairSignals } from './pair-signals.js';
import { RemoteIntake } from './remote-intake.js';

/**
 * What the checks of one generation accumulate: its local endpoints, the peer's candidates, the checklist once
 * it exists, the pairs' signals and log. Plain state the agent drives; an ICE restart replaces it whole.
 */
export class CheckRound {
  /** Local endpoints gathered for this generation, by candidate id. */
  readonly endpoints = new Map<string, LocalEndpoint>();
  /** The peer's candidates: counted, and held until the checklist exists. */
  readonly intake: RemoteIntake;
  readonly pairSignals = new PairSignals();
  readonly pairLog = new PairLog();
  checklist: Checklist | undefined;
  /** This generation's gathering, once started. */
  gathering: Promise<void> | undefined;
  /** Sequential prediction is measuring the NAT: no check may open a flow through it (gather/probe-hold.ts). */
  checksHeld = false;
  /** Our NAT behaviour once gathered, and the peer's as it advertised it (`a=x-ice-tcp-nat`). */
  private localNat: NatProfile | undefined;
  private remoteNat: NatProfile | undefined;

  constructor(maxRemoteCandidates: number) {
    this.intake = new RemoteIntake(maxRemoteCandidates);
  }

  /** Gives a checklist just made everything that came before it: local candidates first, then the peer's. */
  adopt(checklist: Checklist, localGatheringComplete: boolean, now: number): Checklist {
    this.checklist = checklist;
    for (const e of this.endpoints.values()) checklist.addLocalCandidate(e.candidate, now);
    if (localGatheringComplete) checklist.setLocalGatheringComplete(now);
    checklist.setNatProfiles({ local: this.localNat, remote: this.remoteNat }, now);
    this.intake.replayInto(checklist, now);
    return checklist;
  }

  /** What gathering measured about our NAT. */
  setLocalNat(profile: NatProfile, now: number): void {
    this.localNat = profile;
    this.checklist?.setNatProfiles({ local: profile }, now);
  }

  /** The peer's `x-ice-tcp-nat` tokens; absent (a parameters message without them) keeps what we had. */
  setRemoteNat(tokens: readonly string[] | undefined, now: number): void {
    if (!tokens) return;
    this.remoteNat = parseNatTokens(tokens);
    this.checklist?.setNatProfiles({ remote: this.remoteNat }, now);
  }

  /** `{ nat }` for our parameters once our NAT behaviour is known, else nothing. */
  natAdvert(): { nat?: string[] } {
    const tokens = this.localNat ? natTokens(this.localNat) : [];
    return tokens.length > 0 ? { nat: tokens } : {};
  }

  /** The `a=x-ice-tcp-nat` line of our description, once known. */
  natLines(): string[] {
    const line = formatNatLine(this.natAdvert().nat ?? []);
    return line ? [line] : [];
  }

  /** After the checklist ran: pairs it no longer has stop what they had in flight, state changes are logged. */
  afterRun(): void {
    const checklist = this.checklist;
    if (!checklist) return;
    this.pairSignals.abortMissing((pairId) => checklist.getPair(pairId) !== undefined);
    this.pairLog.observe(checklist.pairs());
  }
}
