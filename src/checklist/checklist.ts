// One role type for the whole library; the local name stays until this file's body is next edited.
import { isPredictedFlowPort } from '../candidate/predicted.js';
import type { Candidate, LocalCandidate, IceRole as Role } from '../candidate/types.js';
import { InvalidArgumentError } from '../errors.js';
import type { ChecklistAction, IncomingCheck, IncomingCheckResult } from './actions.js';
import { type ChecklistConfig, type ChecklistState, validateChecklistConfig } from './config.js';
import {
  nextOrdinaryPair,
  pairToUnfreeze,
  placeNewPair,
  thawNextOfFoundation,
  unfreezeFoundation,
} from './freezing.js';
import { hopelessReason, type NatEvidence, type NatProfiles, publicAddresses } from './nat-evidence.js';
import { choosePairToNominate, type NominationTiming, nominationDueAt } from './nomination.js';
import {
  type CandidatePair,
  createPair,
  isPassiveLocal,
  pairIdOf,
  type RemoteCandidate,
  remoteHasConnected,
} from './pair.js';
import { PairStore } from './pair-store.js';
import { canPair, peerTcpType } from './pairing.js';
import { retryDelayMs } from './peer-wait.js';
import { oppositeRole, resolveLiteRoleConflict, resolveRoleConflict, shouldSwitchOn487 } from './role.js';
import {
  allowsSequentialPairing,
  isSequentialPredicted,
  nextPartnerPair,
  type SequentialRanks,
  sequentialRanks,
} from './sequential.js';

/** A check that went out and has no answer yet. */
interface CheckInFlight {
  sentAt: number;
  /** When the check times out: `sentAt + checkTimeoutMs`, or later for a kept S-O SYN (peer-wait.ts). */
  expiresAt: number;
  /** A kept S-O SYN: at `sentAt + checkTimeoutMs` it stops holding its foundation (the next pair thaws). */
  releaseAt?: number;
  useCandidate: boolean;
  roleWhenSent: Role;
}

/** RFC 8445 §6.1.4.1 triggered-check queue entry. */
interface TriggeredCheck {
  pairId: string;
  useCandidate: boolean;
}

/**
 * The ICE-TCP checklist (RFC 8445 §6–§8, RFC 6544 §6–§8) as a pure state machine: no sockets, no timers.
 * The agent feeds it candidates and check results with the current time, calls `poll(now)` after each event
 * and at `nextWakeup()`, and performs the actions it returns.
 */
export class Checklist {
  private readonly config: ChecklistConfig;
  private roleValue: Role;
  private stateValue: ChecklistState = 'new';
  private readonly locals = new Map<string, LocalCandidate>();
  private readonly remotes = new Map<string, RemoteCandidate>();
  /** Peer-reflexive remotes pair only with the candidate they were seen on (RFC 8445 §7.3.1.3). */
  private readonly learnedRemoteIds = new Set<string>();
  private readonly store = new PairStore();
  private readonly triggered: TriggeredCheck[] = [];
  /** Our checks awaiting an answer; made on the first and dropped when none is left (a held session keeps none). */
  private inFlight: Map<string, CheckInFlight> | undefined;
  private readonly actions: ChecklistAction[] = [];
  private startedAt: number | undefined;
  private firstCheckAt: number | undefined;
  private nextCheckAt = 0;
  private latestNow = Number.NEGATIVE_INFINITY;
  private localGatheringComplete = false;
  private remoteEndOfCandidatesAt: number | undefined;
  /** When the peer's first check arrived: it holds our candidates and checks them (peer-wait.ts). */
  private peerHeardAt: number | undefined;
  /** The earliest `retryAt` of the failed pairs, while some are due to be checked again (peer-wait.ts). */
  private nextRetryAt: number | undefined;
  /** The pair whose USE-CANDIDATE check is queued or under way: one nomination at a time. */
  private nominatingPairId: string | undefined;
  private selectedPairId: string | undefined;
  private remoteIdCounter = 0;
  /** Ranks of sequentially predicted candidates (see sequential.ts); dropped when a candidate or the role changes. */
  private ranksCache: SequentialRanks | undefined;
  /** Both sides' measured NAT behaviour: pairs it shows hopeless hold no nomination (nat-evidence.ts). */
  private natProfiles: NatProfiles = {};

  constructor(config: ChecklistConfig) {
    validateChecklistConfig(config);
    this.config = { ...config };
    this.roleValue = config.role;
  }

  /** The role in force; a role conflict may change it. */
  get role(): Role {
    return this.roleValue;
  }

  /** Our tie-breaker (RFC 8445 §7.1.3). */
  get tieBreaker(): bigint {
    return this.config.tieBreaker;
  }

  /** Overall state: new until `start`, then running until completed or failed. */
  get state(): ChecklistState {
    return this.stateValue;
  }

  /** The nominated pair, once there is one. */
  get selectedPair(): CandidatePair | undefined {
    return this.selectedPairId === undefined ? undefined : this.store.get(this.selectedPairId);
  }

  /** Every pair, highest priority first. */
  pairs(): readonly CandidatePair[] {
    return [...this.store.sorted()];
  }

  /** A pair by id. */
  getPair(id: string): CandidatePair | undefined {
    return this.store.get(id);
  }

  /** Adds one of our candidates and pairs it with the peer's signalled candidates. */
  addLocalCandidate(candidate: LocalCandidate, now: number): void {
    this.advance(now);
    if (this.locals.has(candidate.id)) return;
    this.locals.set(candidate.id, candidate);
    this.ranksCache = undefined;
    if (this.isFinished()) return;
    for (const remote of this.remotes.values()) {
      if (!this.learnedRemoteIds.has(remote.id) && this.mayPair(candidate, remote))
        this.addPair(candidate, remote);
    }
    if (isSequentialPredicted(candidate)) this.syncPartnerPairs();
    this.enforcePairLimit();
  }

  /** Our gathering is over: failure becomes possible (RFC 8838 §8). */
  setLocalGatheringComplete(now: number): void {
    this.advance(now);
    this.localGatheringComplete = true;
  }

  /** Our and/or the peer's measured NAT behaviour (`a=x-ice-tcp-nat`); a side left out keeps what it had. */
  setNatProfiles(profiles: NatProfiles, now: number): void {
    this.advance(now);
    this.natProfiles = { ...this.natProfiles, ...profiles };
  }

  /** Why evidence shows the pair cannot succeed, or undefined (see nat-evidence.ts). */
  hopelessReason(pairId: string): string | undefined {
    const pair = this.store.get(pairId);
    return pair && hopelessReason(pair, this.natEvidence());
  }

  /** Adds a candidate of the peer (trickled at any time) and pairs it at once; duplicates return the known one. */
  addRemoteCandidate(candidate: Candidate & { id?: string }, now: number): RemoteCandidate {
    this.advance(now);
    const known = this.findRemote(candidate.address, candidate.port, candidate.tcpType, candidate.component);
    if (known && !this.learnedRemoteIds.has(known.id)) return known;
    if (known) {
      // signalled after we learned it from a check: now it pairs with every local candidate too
      this.learnedRemoteIds.delete(known.id);
      this.pairWithLocals(known);
      return known;
    }
    const id =
      candidate.id !== undefined && !this.remotes.has(candidate.id)
        ? candidate.id
        : this.newRemoteId('remote');
    const remote: RemoteCandidate = { ...candidate, id };
    this.remotes.set(id, remote);
    this.ranksCache = undefined;
    this.pairWithLocals(remote);
    return remote;
  }

  /** The peer has sent all its candidates. */
  setRemoteEndOfCandidates(now: number): void {
    this.advance(now);
    this.remoteEndOfCandidatesAt ??= now;
  }

  /** Checks begin (the peer's credentials are known); the first one goes out at `poll(now)`. */
  start(now: number): void {
    this.advance(now);
    if (this.stateValue !== 'new') return;
    this.stateValue = 'running';
    this.startedAt = now;
    this.nextCheckAt = now;
  }

  /** Runs everything due at `now` and returns the actions to perform, in order. */
  poll(now: number): ChecklistAction[] {
    this.advance(now);
    // a lite agent checks nothing and waits for the peer's nomination (RFC 8445 §6.1.1)
    if (this.stateValue === 'running' && !this.config.lite) {
      this.expireChecks(now);
      this.retryFailedPairs(now);
      this.nominateIfTime(now);
      this.sendNextCheck(now);
      this.failIfHopeless(now);
    }
    return this.actions.splice(0);
  }

  /** The absolute time at which `poll` must run next; undefined when nothing is scheduled. */
  nextWakeup(): number | undefined {
    if (this.actions.length > 0) return this.latestNow;
    if (this.stateValue !== 'running' || this.config.lite) return undefined;
    const times: number[] = [];
    if (this.triggered.some((t) => this.canSendTriggered(t))) times.push(this.nextCheckAt);
    else if (this.hasOrdinaryPair())
      times.push(Math.max(this.nextCheckAt, this.predictionHoldEnd() ?? this.nextCheckAt));
    for (const check of this.inFlight?.values() ?? []) times.push(check.releaseAt ?? check.expiresAt);
    const nominationDeadline = this.nominationDeadline();
    if (nominationDeadline !== undefined) times.push(nominationDeadline);
    times.push(...this.waitDeadlines());
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** The coming moments at which ICE may fail or a failed pair is due again (peer-wait.ts). */
  private waitDeadlines(): number[] {
    const times: number[] = [];
    if (this.localGatheringComplete && this.startedAt !== undefined) {
      const remoteEnd = this.remoteEndAt(this.startedAt);
      for (const t of [remoteEnd, this.passiveDeadline(this.startedAt), this.peerWaitEnd(this.startedAt)]) {
        if (t !== undefined && t > this.latestNow) times.push(t);
      }
    }
    if (this.nextRetryAt !== undefined && this.waitingForPeer(this.latestNow)) times.push(this.nextRetryAt);
    return times;
  }

  /** Our check on the pair was answered with a success response. */
  onCheckSuccess(pairId: string, now: number): void {
    this.advance(now);
    const pair = this.store.get(pairId);
    const check = this.inFlight?.get(pairId);
    if (!pair || !check) return;
    this.endCheck(pairId);
    pair.rttMs = now - check.sentAt;
    const newlyValid = pair.state !== 'succeeded';
    // RFC 6544 §7.1: over TCP the valid pair is the pair checked, whatever the mapped address says
    pair.state = 'succeeded';
    if (this.isFinished()) return;
    if (newlyValid) {
      this.actions.push({ type: 'pair-succeeded', pairId });
      unfreezeFoundation(pair.foundation, this.store.sorted());
    }
    if (check.useCandidate) {
      this.nominatingPairId = undefined;
      if (this.roleValue === 'controlling') {
        this.select(pair);
        return;
      }
    }
    // RFC 8445 §7.3.1.5: USE-CANDIDATE came first, our own check completes the nomination
    if (this.roleValue === 'controlled' && pair.useCandidateReceived) this.select(pair);
  }

  /**
   * Our check on the pair failed: connection refused or timed out, or (`answered`) an error response other than
   * 487. Only an unanswered check may be tried again while we wait for the peer (peer-wait.ts): an error
   * response comes from a peer that is there and says no.
   */
  onCheckFailure(pairId: string, now: number, reason: string, answered = false): void {
    this.advance(now);
    const pair = this.store.get(pairId);
    if (!pair || !this.inFlight?.has(pairId)) return;
    this.failPair(pair, reason, !answered);
  }

  /** Our check was answered 487 (RFC 8445 §7.2.5.1): switch role and check the pair again. */
  onRoleConflict(pairId: string, now: number): void {
    this.advance(now);
    const pair = this.store.get(pairId);
    const check = this.inFlight?.get(pairId);
    if (!pair || !check) return;
    this.endCheck(pairId);
    if (check.useCandidate) this.nominatingPairId = undefined;
    if (shouldSwitchOn487(check.roleWhenSent, this.roleValue))
      this.switchRole(oppositeRole(check.roleWhenSent));
    if (pair.state === 'in-progress') pair.state = 'waiting';
    if (!this.isFinished()) this.triggered.push({ pairId, useCandidate: false });
  }

  /**
   * The peer checked us (RFC 8445 §7.3, RFC 6544 §7.2): settles role conflicts, learns a peer-reflexive
   * candidate if needed, queues a triggered check and handles USE-CANDIDATE.
   */
  onIncomingCheck(check: IncomingCheck, now: number): IncomingCheckResult {
    this.advance(now);
    const local = this.locals.get(check.localCandidateId);
    if (!local) throw new InvalidArgumentError(`unknown local candidate ${check.localCandidateId}`);
    const verdict = this.config.lite
      ? resolveLiteRoleConflict(check)
      : resolveRoleConflict(this.roleValue, this.config.tieBreaker, check);
    if (verdict === 'reject-487') return { response: 'role-conflict' };
    if (verdict === 'switch-role') this.switchRole(oppositeRole(this.roleValue));
    this.peerHeardAt ??= now;

    const known = this.findRemoteOfCheck(local, check);
    const remote = known ?? this.learnPeerReflexive(local, check);
    const learnedRemote = known ? undefined : remote;
    const pair = this.pairForIncoming(local, remote);
    pair.checksReceived += 1;
    if (this.config.lite) this.onLiteCheck(pair, check.useCandidate);
    else if (!this.isFinished()) {
      this.triggerCheck(pair);
      if (check.useCandidate && this.roleValue === 'controlled') {
        pair.useCandidateReceived = true;
        if (pair.state === 'succeeded') this.select(pair);
      }
    }
    this.enforcePairLimit();
    return learnedRemote
      ? { response: 'success', pairId: pair.id, learnedRemote }
      : { response: 'success', pairId: pair.id };
  }

  /** The pair's connection closed; losing the selected one fails ICE. */
  onConnectionLost(pairId: string, now: number): void {
    this.advance(now);
    const pair = this.store.get(pairId);
    if (!pair) return;
    if (pairId === this.selectedPairId) {
      pair.state = 'failed';
      pair.failureReason = 'connection lost';
      if (this.stateValue !== 'failed') this.fail('selected connection lost');
      return;
    }
    if (pair.state !== 'failed') this.failPair(pair, 'connection lost');
  }

  /**
   * RFC 8445 §6.1.1, §7.3.1.5 for a lite agent: it sends no triggered check, so the peer's check (which we
   * answer with success) makes the pair valid, and the peer's USE-CANDIDATE on it selects it at once.
   */
  private onLiteCheck(pair: CandidatePair, useCandidate: boolean): void {
    if (this.isFinished()) return;
    if (pair.state !== 'succeeded') {
      pair.state = 'succeeded';
      this.actions.push({ type: 'pair-succeeded', pairId: pair.id });
    }
    if (useCandidate) {
      pair.useCandidateReceived = true;
      this.select(pair);
    }
  }

  private advance(now: number): void {
    if (now > this.latestNow) this.latestNow = now;
  }

  private isFinished(): boolean {
    return this.stateValue === 'completed' || this.stateValue === 'failed';
  }

  private pairWithLocals(remote: RemoteCandidate): void {
    if (this.isFinished()) return;
    for (const local of this.locals.values()) {
      if (this.mayPair(local, remote)) this.addPair(local, remote);
    }
    if (isSequentialPredicted(remote)) this.syncPartnerPairs();
    this.enforcePairLimit();
  }

  private ranks(): SequentialRanks {
    this.ranksCache ??= {
      local: sequentialRanks(this.locals.values()),
      remote: sequentialRanks([...this.remotes.values()].filter((r) => !this.learnedRemoteIds.has(r.id))),
      role: this.roleValue,
    };
    return this.ranksCache;
  }

  /** canPair, and sequentially predicted candidates on both sides only as partners. */
  private mayPair(local: LocalCandidate, remote: RemoteCandidate): boolean {
    return canPair(local, remote) && allowsSequentialPairing(local, remote, this.ranks());
  }

  /**
   * A new predicted port can change every rank of its side, a role change every partner: drop the idle
   * predicted pairs that are no longer partners and add the new ones.
   */
  private syncPartnerPairs(): void {
    for (const pair of this.store.sorted()) {
      const both = isSequentialPredicted(pair.local) && isSequentialPredicted(pair.remote);
      if (both && !this.isBusy(pair) && !this.mayPair(pair.local, pair.remote)) this.removePair(pair);
    }
    for (const local of this.locals.values()) {
      if (!isSequentialPredicted(local)) continue;
      for (const remote of this.remotes.values()) {
        if (this.learnedRemoteIds.has(remote.id) || !isSequentialPredicted(remote)) continue;
        if (!this.store.get(pairIdOf(local, remote)) && this.mayPair(local, remote))
          this.addPair(local, remote);
      }
    }
  }

  private newRemoteId(prefix: string): string {
    let id: string;
    do id = `${prefix}-${++this.remoteIdCounter}`;
    while (this.remotes.has(id));
    return id;
  }

  private findRemote(
    address: string,
    port: number,
    tcpType: string,
    component: number,
  ): RemoteCandidate | undefined {
    for (const r of this.remotes.values()) {
      if (r.address === address && r.port === port && r.tcpType === tcpType && r.component === component)
        return r;
    }
    return undefined;
  }

  private findRemoteOfCheck(local: LocalCandidate, check: IncomingCheck): RemoteCandidate | undefined {
    const wanted = check.remoteTcpType ?? peerTcpType(local.tcpType);
    const sameAddress = [...this.remotes.values()].filter(
      (r) => r.address === check.remoteAddress && r.port === check.remotePort,
    );
    const exact = sameAddress.find((r) => r.tcpType === wanted);
    return exact ?? (check.remoteTcpType === undefined ? sameAddress[0] : undefined);
  }

  /** RFC 8445 §7.3.1.3: an unknown source becomes a peer-reflexive candidate with the check's PRIORITY. */
  private learnPeerReflexive(local: LocalCandidate, check: IncomingCheck): RemoteCandidate {
    const foundations = new Set([...this.remotes.values()].map((r) => r.foundation));
    let n = this.learnedRemoteIds.size;
    let foundation: string;
    do foundation = `prflx${++n}`;
    while (foundations.has(foundation));
    const remote: RemoteCandidate = {
      id: this.newRemoteId('prflx'),
      foundation,
      component: local.component,
      transport: 'TCP',
      priority: check.priority,
      address: check.remoteAddress,
      port: check.remotePort,
      type: 'prflx',
      tcpType: check.remoteTcpType ?? peerTcpType(local.tcpType),
      extensions: [],
    };
    this.remotes.set(remote.id, remote);
    this.learnedRemoteIds.add(remote.id);
    return remote;
  }

  /** Adds a signalled pair unless a pair opening the same connection is better or already busy. */
  private addPair(local: LocalCandidate, remote: RemoteCandidate): void {
    const pair = createPair(local, remote, this.roleValue);
    const rival = this.store.sameConnectionAs(pair);
    if (rival) {
      if (this.isBusy(rival) || rival.priority >= pair.priority) return;
      this.removePair(rival);
    }
    this.insertPair(pair);
  }

  private insertPair(pair: CandidatePair): void {
    placeNewPair(pair, this.store.sorted());
    this.store.add(pair);
  }

  /** The pair an incoming check belongs to: the exact one, the one sharing its connection, or a new one. */
  private pairForIncoming(local: LocalCandidate, remote: RemoteCandidate): CandidatePair {
    const id = pairIdOf(local, remote);
    const existing = this.store.get(id) ?? this.store.sameConnectionAs({ local, remote });
    if (existing) return existing;
    const pair = createPair(local, remote, this.roleValue);
    this.insertPair(pair);
    return pair;
  }

  /** Pairs that must not be pruned: checked, being checked, or reached by the peer (RFC 8838 §10). */
  private isBusy(pair: CandidatePair): boolean {
    return (
      pair.state === 'in-progress' ||
      pair.state === 'succeeded' ||
      pair.nominated ||
      remoteHasConnected(pair) ||
      this.inFlight?.has(pair.id) ||
      this.triggered.some((t) => t.pairId === pair.id)
    );
  }

  private removePair(pair: CandidatePair): void {
    this.store.remove(pair);
    this.dropTriggered(pair.id);
  }

  /** RFC 8445 §6.1.2.5: keep at most maxPairs, dropping the lowest-priority idle ones. */
  private enforcePairLimit(): void {
    while (this.store.size > this.config.maxPairs) {
      const sorted = this.store.sorted();
      const victim = sorted.findLast((p) => !this.isBusy(p));
      if (!victim) return;
      this.removePair(victim);
    }
  }

  private dropTriggered(pairId: string): void {
    for (let i = this.triggered.length - 1; i >= 0; i--) {
      if (this.triggered[i]?.pairId === pairId) this.triggered.splice(i, 1);
    }
  }

  /** RFC 8445 §7.3.1.4: answer a check with our own, unless ours is under way or already succeeded. */
  private triggerCheck(pair: CandidatePair): void {
    if (pair.state === 'succeeded' || pair.state === 'in-progress') return;
    if (this.triggered.some((t) => t.pairId === pair.id)) return;
    pair.state = 'waiting';
    this.triggered.push({ pairId: pair.id, useCandidate: false });
  }

  private switchRole(role: Role): void {
    this.roleValue = role;
    this.store.recomputePriorities(role);
    this.ranksCache = undefined;
    if (!this.isFinished()) this.syncPartnerPairs();
    if (role === 'controlled') {
      // only the controlling agent nominates
      this.nominatingPairId = undefined;
      for (const t of this.triggered) t.useCandidate = false;
    }
    this.actions.push({ type: 'role-changed', role });
  }

  private expireChecks(now: number): void {
    for (const [pairId, check] of [...(this.inFlight ?? [])]) {
      const pair = this.store.get(pairId);
      if (!pair) continue;
      if (now >= check.expiresAt) this.failPair(pair, 'timeout');
      else if (check.releaseAt !== undefined && now >= check.releaseAt) {
        check.releaseAt = undefined;
        thawNextOfFoundation(pair.foundation, this.store.sorted());
      }
    }
  }

  private endCheck(pairId: string): void {
    if (this.inFlight?.delete(pairId) && this.inFlight.size === 0) this.inFlight = undefined;
  }

  private failPair(pair: CandidatePair, reason: string, retryable = true): void {
    this.endCheck(pair.id);
    this.dropTriggered(pair.id);
    if (this.nominatingPairId === pair.id) this.nominatingPairId = undefined;
    pair.state = 'failed';
    pair.failureReason = reason;
    this.actions.push({ type: 'pair-failed', pairId: pair.id });
    if (
      retryable &&
      this.config.peerWaitMs !== undefined &&
      this.peerHeardAt === undefined &&
      !isPassiveLocal(pair)
    ) {
      pair.retryAt = this.latestNow + retryDelayMs(pair.retries ?? 0);
      this.nextRetryAt = Math.min(this.nextRetryAt ?? pair.retryAt, pair.retryAt);
    }
  }

  /** While we wait for the peer (peer-wait.ts), failed pairs whose pause is over are checked again. */
  private retryFailedPairs(now: number): void {
    if (this.nextRetryAt === undefined || now < this.nextRetryAt || !this.waitingForPeer(now)) return;
    let next: number | undefined;
    for (const pair of this.store.sorted()) {
      if (pair.state !== 'failed' || pair.retryAt === undefined) continue;
      if (now < pair.retryAt) {
        next = Math.min(next ?? pair.retryAt, pair.retryAt);
        continue;
      }
      pair.retryAt = undefined;
      pair.retries = (pair.retries ?? 0) + 1;
      pair.state = 'waiting';
    }
    this.nextRetryAt = next;
  }

  /** True while no check of the peer has arrived and its wait (`peerWaitMs`) is not over. */
  private waitingForPeer(now: number): boolean {
    const end = this.startedAt === undefined ? undefined : this.peerWaitEnd(this.startedAt);
    return end !== undefined && now < end;
  }

  /** When we stop waiting for a peer that never checked us; undefined once it did, or with no such wait. */
  private peerWaitEnd(startedAt: number): number | undefined {
    const wait = this.config.peerWaitMs;
    return wait === undefined || this.peerHeardAt !== undefined
      ? undefined
      : this.remoteEndAt(startedAt) + wait;
  }

  private nominateIfTime(now: number): void {
    if (this.roleValue !== 'controlling' || this.nominatingPairId !== undefined) return;
    const pair = choosePairToNominate(this.store.sorted(), this.nominationTiming(now));
    if (!pair) return;
    this.nominatingPairId = pair.id;
    // ahead of other triggered checks: their pairs are about to be abandoned
    this.triggered.unshift({ pairId: pair.id, useCandidate: true });
  }

  private nominationDeadline(): number | undefined {
    if (this.roleValue !== 'controlling' || this.nominatingPairId !== undefined) return undefined;
    const due = nominationDueAt(this.store.sorted(), this.nominationTiming(this.latestNow));
    return due === undefined || !Number.isFinite(due) ? undefined : Math.max(due, this.latestNow);
  }

  private nominationTiming(now: number): NominationTiming {
    let evidence: NatEvidence | undefined;
    const hopeless = (p: CandidatePair) => {
      evidence ??= this.natEvidence();
      return hopelessReason(p, evidence) !== undefined;
    };
    return {
      now,
      firstCheckAt: this.firstCheckAt,
      nominationWaitMs: this.config.nominationWaitMs,
      relayNominationWaitMs: this.config.relayNominationWaitMs,
      cannotSucceed: hopeless,
    };
  }

  private natEvidence(): NatEvidence {
    const { local, remote } = this.natProfiles;
    const signalled = [...this.remotes.values()].filter((r) => !this.learnedRemoteIds.has(r.id));
    return {
      ...this.natProfiles,
      localPublic: publicAddresses(this.locals.values(), local),
      remotePublic: publicAddresses(signalled, remote),
      localPredicts: [...this.locals.values()].some(isPredictedFlowPort),
    };
  }

  private canSendTriggered(entry: TriggeredCheck): boolean {
    const pair = this.store.get(entry.pairId);
    if (!pair || this.inFlight?.has(pair.id)) return false;
    return pair.state !== 'succeeded' || entry.useCandidate;
  }

  private hasOrdinaryPair(): boolean {
    const pairs = this.store.sorted();
    return nextOrdinaryPair(pairs) !== undefined || pairToUnfreeze(pairs) !== undefined;
  }

  /**
   * Behind a sequential NAT every ordinary check opens a flow that takes the next external port, so none may
   * go out before we know whether the peer predicts too (its end-of-candidates, or the timeout): the predicted
   * partner pairs must be the first flows. Triggered checks reuse the peer's connection and are never held.
   */
  private predictionHoldEnd(): number | undefined {
    if (this.startedAt === undefined) return undefined;
    for (const local of this.locals.values()) {
      if (isSequentialPredicted(local)) return this.remoteEndAt(this.startedAt);
    }
    return undefined;
  }

  /** The pair of the next ordinary check: predicted partner pairs first (rising k), then by priority. */
  private nextOrdinaryCheck(now: number): CandidatePair | undefined {
    const holdEnd = this.predictionHoldEnd();
    if (holdEnd !== undefined && now < holdEnd) return undefined;
    const pairs = this.store.sorted();
    return nextPartnerPair(pairs, this.ranks()) ?? nextOrdinaryPair(pairs) ?? pairToUnfreeze(pairs);
  }

  /**
   * RFC 8445 §6.1.4.2: one check per Ta, the triggered queue first, then the best waiting pair. The nominating
   * check waits its Ta too, even on a valid pair's open connection that it reuses: §8.1.1 sends it through the
   * triggered-check queue, and §14.2 paces every transaction ("the combination of all transactions from all
   * agents ... MUST NOT be sent more often than once every 5 ms"), not only those that open a connection.
   */
  private sendNextCheck(now: number): void {
    if (now < this.nextCheckAt) return;
    while (this.triggered.length > 0) {
      const entry = this.triggered.shift()!;
      const pair = this.store.get(entry.pairId);
      if (pair && this.canSendTriggered(entry)) {
        this.sendCheck(pair, entry.useCandidate, true, now);
        return;
      }
      if (entry.useCandidate && entry.pairId === this.nominatingPairId) this.nominatingPairId = undefined;
    }
    const pair = this.nextOrdinaryCheck(now);
    if (pair) this.sendCheck(pair, false, false, now);
  }

  private sendCheck(pair: CandidatePair, useCandidate: boolean, triggered: boolean, now: number): void {
    if (pair.state !== 'succeeded') pair.state = 'in-progress';
    pair.checksSent += 1;
    pair.lastCheckAt = now;
    this.inFlight ??= new Map();
    const timeoutMs = this.timeoutOfCheck(pair, useCandidate, now);
    const kept = timeoutMs > this.config.checkTimeoutMs;
    this.inFlight.set(pair.id, {
      sentAt: now,
      expiresAt: now + timeoutMs,
      ...(kept ? { releaseAt: now + this.config.checkTimeoutMs } : {}),
      useCandidate,
      roleWhenSent: this.roleValue,
    });
    this.firstCheckAt ??= now;
    this.nextCheckAt = now + this.config.pacingMs;
    this.actions.push(
      kept
        ? { type: 'check', pairId: pair.id, useCandidate, triggered, timeoutMs }
        : { type: 'check', pairId: pair.id, useCandidate, triggered },
    );
  }

  /**
   * `checkTimeoutMs`, but while we wait for the peer an S-O check towards its reflexive candidate keeps its SYN
   * until the wait ends (peer-wait.ts): the peer's late SYN must meet this socket. A fresh socket from the same
   * port would answer it with another initial sequence number, which our NAT, still tracking the first SYN, drops
   * as out of window (measured: the listener's SYN-ACK never reached the peer, and its half-open connection held
   * the 4-tuple, so every new dial got EADDRNOTAVAIL).
   */
  private timeoutOfCheck(pair: CandidatePair, useCandidate: boolean, now: number): number {
    const base = this.config.checkTimeoutMs;
    const end = this.startedAt === undefined ? undefined : this.peerWaitEnd(this.startedAt);
    // only a check that opens the connection waits for a SYN; one on a valid pair's connection is answered or lost
    const opens = !useCandidate && pair.state !== 'succeeded';
    if (end === undefined || !opens || pair.local.tcpType !== 'so' || pair.remote.type === 'host')
      return base;
    return Math.max(base, end - now);
  }

  private select(pair: CandidatePair): void {
    pair.nominated = true;
    this.selectedPairId = pair.id;
    this.nominatingPairId = undefined;
    this.triggered.length = 0;
    this.stateValue = 'completed';
    this.actions.push({ type: 'selected', pairId: pair.id });
  }

  /** When the peer's candidates are taken as complete: its end-of-candidates, or the timeout after start. */
  private remoteEndAt(startedAt: number): number {
    return this.remoteEndOfCandidatesAt === undefined
      ? startedAt + this.config.remoteEndOfCandidatesTimeoutMs
      : Math.max(this.remoteEndOfCandidatesAt, startedAt);
  }

  /**
   * A pair on our passive candidate can succeed only if the peer connects: it gets `passiveGraceMs` after the
   * peer's end-of-candidates, or after the peer's first check when that came later (its other dials follow).
   */
  private canStillSucceed(pair: CandidatePair, now: number, startedAt: number): boolean {
    if (pair.state === 'failed') return false;
    if (isPassiveLocal(pair) && pair.state === 'waiting' && !remoteHasConnected(pair)) {
      return now < this.passiveDeadline(startedAt);
    }
    return true;
  }

  private passiveDeadline(startedAt: number): number {
    return Math.max(this.remoteEndAt(startedAt), this.peerHeardAt ?? startedAt) + this.passiveGraceMs();
  }

  private passiveGraceMs(): number {
    return this.config.passiveGraceMs ?? this.config.checkTimeoutMs;
  }

  /** RFC 8445 §6.1.2.1 with RFC 8838 §8: fail only once both sides have said all their candidates. */
  private failIfHopeless(now: number): void {
    const startedAt = this.startedAt;
    if (startedAt === undefined || !this.localGatheringComplete || now < this.remoteEndAt(startedAt)) return;
    const pairs = this.store.sorted();
    // no pair at all (no address family in common): the peer cannot reach us either, so there is nobody to wait for
    if (pairs.length > 0 && this.waitingForPeer(now)) return;
    if (pairs.some((p) => this.canStillSucceed(p, now, startedAt))) return;
    this.fail(pairs.length === 0 ? 'no candidate pairs' : 'all candidate pairs failed');
  }

  private fail(reason: string): void {
    this.stateValue = 'failed';
    this.triggered.length = 0;
    this.actions.push({ type: 'failed', reason });
  }
}
