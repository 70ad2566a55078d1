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

  constructor(maxRemoteCandidates: number) {
    this.intake = new RemoteIntake(maxRemoteCandidates);
  }

  /** Gives a checklist just made everything that came before it: local candidates first, then the peer's. */
  adopt(checklist: Checklist, localGatheringComplete: boolean, now: number): Checklist {
    this.checklist = checklist;
    for (const e of this.endpoints.values()) checklist.addLocalCandidate(e.candidate, now);
    if (localGatheringComplete) checklist.setLocalGatheringComplete(now);
    this.intake.replayInto(checklist, now);
    return checklist;
  }

  /** After the checklist ran: pairs it no longer has stop what they had in flight, state changes are logged. */
  afterRun(): void {
    const checklist = this.checklist;
    if (!checklist) return;
    this.pairSignals.abortMissing((pairId) => checklist.getPair(pairId) !== undefined);
    this.pairLog.observe(checklist.pairs());
  }
}
