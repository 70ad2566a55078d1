import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { RestartBackoff } from './agent/auto-restart.js';
import { buildCheckRequest, buildKeepalive } from './agent/check-messages.js';
import { type CheckOutcome, ConnectionPool } from './agent/connection-pool.js';
import { ConsentSession, type PathEvent } from './agent/consent-session.js';
import { generateParameters, generateTieBreaker, type IceParameters } from './agent/credentials.js';
import { Generation, RetiredGeneration } from './agent/generation.js';
import type { Link } from './agent/link.js';
import { type IceAgentOptions, type IceRole, type ResolvedOptions, resolveOptions } from './agent/options.js';
import { PairLog } from './agent/pair-log.js';
import { PairSignals } from './agent/pair-signals.js';
import type { GatheringState, IceState } from './agent/state.js';
import { buildStats, type IceStats } from './agent/stats.js';
import { parseDescription } from './candidate/description.js';
import { otherPreferenceOf } from './candidate/factory.js';
import { candidatePriority } from './candidate/priority.js';
import { formatCandidate, parseCandidate } from './candidate/sdp.js';
import type { Candidate, LocalCandidate } from './candidate/types.js';
import type { CandidatePair } from './checklist/index.js';
import {
  Checklist,
  type ChecklistAction,
  type IncomingCheck,
  type IncomingCheckResult,
} from './checklist/index.js';
import { IceConnection } from './connection/ice-connection.js';
import {
  AbortedError,
  CandidateLimitError,
  ClosedError,
  ConsentLostError,
  GatherError,
  IceFailedError,
  IceTcpError,
  IceTimeoutError,
  InvalidArgumentError,
} from './errors.js';
import { defaultLocalAddresses, explicitLocalAddresses } from './gather/addresses.js';
import { type GatherResource, gatherCandidates, type LocalEndpoint } from './gather/index.js';
import { shortTermKey } from './stun/index.js';

const log = createDebug('ice-tcp:agent');

export type { GatheringState, IceState } from './agent/state.js';

/** The nominated pair, as reported by the `'selected-pair'` event. */
export interface SelectedPair {
  local: Candidate;
  remote: Candidate;
}

/** Typed events of an {@link IceAgent}. */
export interface IceAgentEvents {
  /** A local candidate to signal to the peer; `null` once gathering is complete. */
  candidate: [Candidate | null];
  'gathering-state': [GatheringState];
  /**
   * The ICE state; for `'disconnected'` and `'failed'` the reason too: a `ConnectionLostError` or
   * `ConsentLostError` once a pair was selected, the `IceFailedError`/`IceTimeoutError`/... of `connect()` before.
   */
  state: [state: IceState, reason?: IceTcpError];
  'selected-pair': [SelectedPair];
  /**
   * Our new ufrag and password after an ICE restart (ours, or the peer's that we follow): signal them to the
   * peer; the new generation's candidates follow as `'candidate'` events, then `null`.
   */
  parameters: [IceParameters];
  /** A non-fatal problem (a STUN/TURN server failed, a bad remote candidate); fatal ones reject `connect()`. */
  error: [IceTcpError];
}

/**
 * An ICE-TCP agent (RFC 8445 + RFC 6544): gathers TCP candidates, checks candidate pairs with the peer's,
 * nominates one (regular nomination) and hands the application its TCP connection.
 */
export class IceAgent extends EventEmitter<IceAgentEvents> {
  private readonly options: ResolvedOptions;
  private readonly tieBreaker = generateTieBreaker();
  /** The ICE generation in force (RFC 8445 §9): credentials, the peer's, the pool; a restart makes a new one. */
  private gen: Generation;
  /** The previous generation, while its selected connection still carries data (see agent/generation.ts). */
  private retired: RetiredGeneration | undefined;
  /** A restart is under way: its deadline, and the old path's final verdict if it came meanwhile. */
  private restarting: { timer: NodeJS.Timeout; pathFailure?: IceTcpError } | undefined;
  /** `autoRestart`: the pending automatic restart, and the back-off between attempts. */
  private autoRestartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new RestartBackoff();
  private endpoints = new Map<string, LocalEndpoint>();
  private pendingRemote: Candidate[] = [];
  /** Distinct remote candidate lines accepted, against maxRemoteCandidates. */
  private remoteLines = new Set<string>();
  private checklist: Checklist | undefined;
  private pairSignals = new PairSignals();
  private pairLog = new PairLog();
  private remoteEnded = false;
  /** The peer's credentials of the generation before this one: sent again, they are no restart. */
  private previousRemote: IceParameters | undefined;
  /** The role the last generation ended with: a restart keeps it. */
  private keptRole: IceRole | undefined;
  private sharedFirst = false;
  private gathering: Promise<void> | undefined;
  private gatheringStateValue: GatheringState = 'new';
  private stateValue: IceState = 'new';
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private repump = false;
  /** Sequential prediction is measuring the NAT: no check may open a flow through it (gather/probe-hold.ts). */
  private checksHeld = false;
  private connection: IceConnection | undefined;
  /** Consent freshness and failure detection of the selected pair (RFC 7675). */
  private path: ConsentSession | undefined;
  /** Set when the timer fired: the pump runs after the loop's I/O phase (see onTimer). */
  private immediate: NodeJS.Immediate | undefined;
  private failure: IceTcpError | undefined;
  private readonly waiters = new Set<{
    resolve: (c: IceConnection) => void;
    reject: (e: IceTcpError) => void;
  }>();
  private idCounter = 0;
  private readonly startedAt = performance.now();
  /** Aborted when the agent closes, fails or is aborted: ends gathering and every pending operation at once. */
  private readonly lifetime = new AbortController();
  /** Why the agent stopped early (closed or aborted): what pending and later operations reject with. */
  private ended: IceTcpError | undefined;
  private readonly abortListener = () =>
    this.abort(new AbortedError('aborted by signal', { cause: this.options.signal?.reason }));

  constructor(options: IceAgentOptions = {}) {
    super();
    this.options = resolveOptions(options);
    const generated = generateParameters();
    this.gen = this.newGeneration(1, {
      ufrag: this.options.ufrag ?? generated.ufrag,
      pwd: this.options.pwd ?? generated.pwd,
    });
    const signal = this.options.signal;
    if (signal?.aborted) queueMicrotask(this.abortListener);
    else signal?.addEventListener('abort', this.abortListener, { once: true });
  }

  private get params(): IceParameters {
    return this.gen.params;
  }

  private get remote(): IceParameters | undefined {
    return this.gen.remote;
  }

  private set remote(parameters: IceParameters | undefined) {
    this.gen.remote = parameters;
  }

  private get pool(): ConnectionPool {
    return this.gen.pool;
  }

  private get resources(): GatherResource[] {
    return this.gen.resources;
  }

  /** Our ufrag and password, to send to the peer (reading them marks this agent as the offerer). */
  get localParameters(): IceParameters {
    this.noteShared();
    return { ...this.params };
  }

  /** Current ICE state. */
  get state(): IceState {
    return this.stateValue;
  }

  /** Current gathering state. */
  get gatheringState(): GatheringState {
    return this.gatheringStateValue;
  }

  /** The role in force (it may change once after a role conflict); undefined before checks begin. */
  get role(): IceRole | undefined {
    return this.checklist?.role ?? this.options.role;
  }

  /** Gathers local candidates; each is emitted as `'candidate'`, then `null`. Idempotent. */
  gather(): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.gathering ??= this.runGathering();
    return this.gathering;
  }

  /** Sets the peer's ufrag and password (RFC 8445 §5.3); checks start once these are known. */
  setRemoteParameters(parameters: { ufrag: string; pwd: string }): void {
    this.assertOpen();
    if (!parameters || typeof parameters.ufrag !== 'string' || typeof parameters.pwd !== 'string') {
      throw new InvalidArgumentError('remote parameters need string ufrag and pwd');
    }
    if (!/^[A-Za-z0-9+/]{4,256}$/.test(parameters.ufrag) || !/^[A-Za-z0-9+/]{22,256}$/.test(parameters.pwd)) {
      throw new InvalidArgumentError('remote ufrag must be >= 4 and pwd >= 22 ice-chars (RFC 8445 §5.3)');
    }
    const remote = this.remote ?? this.previousRemote;
    if (remote && remote.ufrag === parameters.ufrag && remote.pwd === parameters.pwd) return;
    // after a failure nothing restarts: a new agent is needed
    if (this.failure && remote) throw this.failure;
    const awaitingAnswer = this.gen.initiatedHere && this.checklist?.selectedPair === undefined;
    // a generation whose restart failed is gone: whatever the peer sends now starts a new one
    if (this.gen.abort.signal.aborted || (this.remote && !awaitingAnswer)) {
      // new credentials from the peer: it restarted (RFC 8445 §9.1.1), so do we, keeping our role
      log('the peer restarted ICE');
      this.beginRestart(false);
    } else if (this.remote) {
      // our restart is still open: the newest answer wins (both sides restarted at once, or we did it twice)
      log('the peer answered our restart again');
    }
    this.remote = { ufrag: parameters.ufrag, pwd: parameters.pwd };
    this.maybeStart();
  }

  /**
   * ICE restart (RFC 8445 §9): new credentials (`'parameters'` event), a fresh gather (`'candidate'` events, then
   * `null`) and new checks once the peer's new parameters arrive; the role is kept. The selected connection
   * keeps carrying data until the new generation nominates a pair; then the same {@link IceConnection} moves
   * to it (`'path-change'`) and `'selected-pair'` fires again. The peer restarts when it gets our new parameters
   * (`setRemoteParameters` with other credentials). Fails with `connectTimeoutMs`: an `'error'` event, and the
   * old path carries on if it is alive (README, "ICE restart").
   */
  restart(): void {
    this.assertOpen();
    if (this.failure) throw this.failure;
    if (this.stateValue === 'new') throw new InvalidArgumentError('nothing to restart: ICE has not started');
    this.beginRestart(true);
  }

  /**
   * Adds one remote candidate (an `a=candidate` line or a {@link Candidate}); `null` or
   * `'a=end-of-candidates'` means the peer has no more. Bad lines throw `CandidateParseError`.
   */
  addRemoteCandidate(candidate: string | Candidate | null): void {
    this.assertOpen();
    if (this.gen.id > 1 && this.remote === undefined) {
      // after our restart and before the peer's new parameters: a candidate of the old generation, too late
      log('remote candidate of the previous generation ignored');
      return;
    }
    if (
      candidate === null ||
      (typeof candidate === 'string' && /^(a=)?end-of-candidates\s*$/.test(candidate.trim()))
    ) {
      this.remoteEnded = true;
      this.checklist?.setRemoteEndOfCandidates(this.now());
      this.pump();
      return;
    }
    const parsed =
      typeof candidate === 'string' ? parseCandidate(candidate) : parseCandidate(formatCandidate(candidate));
    const key = formatCandidate(parsed);
    if (!this.remoteLines.has(key)) {
      if (this.remoteLines.size >= this.options.maxRemoteCandidates)
        throw new CandidateLimitError(this.options.maxRemoteCandidates);
      this.remoteLines.add(key);
    }
    this.pool.permitRemote(parsed.address);
    // a peer behind a NAT reaches our relay from its public IP: the raddr of its relay candidates
    if (parsed.type === 'relay' && parsed.relatedAddress !== undefined)
      this.pool.permitRemote(parsed.relatedAddress);
    if (this.checklist) {
      this.checklist.addRemoteCandidate(parsed, this.now());
      this.pump();
    } else {
      this.pendingRemote.push(parsed);
    }
  }

  /** Our description as `a=` lines: ufrag, pwd, trickle, candidates so far, end-of-candidates once gathered. */
  localDescription(): string[] {
    this.noteShared();
    const lines = [
      `a=ice-ufrag:${this.params.ufrag}`,
      `a=ice-pwd:${this.params.pwd}`,
      'a=ice-options:trickle',
    ];
    for (const e of this.endpoints.values()) lines.push(`a=${formatCandidate(publicCandidate(e.candidate))}`);
    if (this.gatheringStateValue === 'complete') lines.push('a=end-of-candidates');
    return lines;
  }

  /** Applies the peer's description (same format; CRLF and missing `a=` tolerated). */
  setRemoteDescription(lines: string | readonly string[]): void {
    this.assertOpen();
    const d = parseDescription(lines);
    if (d.ufrag === undefined || d.pwd === undefined) {
      throw new InvalidArgumentError('remote description lacks a=ice-ufrag or a=ice-pwd');
    }
    this.setRemoteParameters({ ufrag: d.ufrag, pwd: d.pwd });
    for (const c of d.candidates) {
      try {
        this.addRemoteCandidate(c);
      } catch (err) {
        // the extra ones are reported, the rest of the description (end-of-candidates) still applies
        if (!(err instanceof CandidateLimitError)) throw err;
        this.emit('error', err);
      }
    }
    if (d.endOfCandidates) this.addRemoteCandidate(null);
  }

  /**
   * Resolves with the connection once a pair is nominated; rejects with `IceFailedError` when every pair
   * failed, `IceTimeoutError` after `connectTimeoutMs`, `AbortedError` on abort, `ClosedError` on close.
   * Starts gathering if `gather()` was not called.
   */
  connect(): Promise<IceConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    if (this.ended) return Promise.reject(this.ended);
    if (this.failure) return Promise.reject(this.failure);
    void this.gather().catch(() => undefined);
    return new Promise<IceConnection>((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.fail(new IceTimeoutError(`no pair nominated within ${this.options.connectTimeoutMs} ms`));
      }, this.options.connectTimeoutMs);
      const waiter = {
        resolve: (c: IceConnection) => {
          clearTimeout(timeout);
          resolve(c);
        },
        reject: (e: IceTcpError) => {
          clearTimeout(timeout);
          reject(e);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Per-pair state, priority, nomination, round-trip time, checks and bytes. */
  getStats(): IceStats {
    return buildStats({
      state: this.stateValue,
      role: this.role,
      pairs: this.checklist?.pairs() ?? [],
      selectedPairId: this.checklist?.selectedPair?.id,
      bytesOf: (pairId) => this.pool.bytesOf(pairId),
      droppedMessages: this.pool.droppedMessages,
      consent: this.path?.stats,
    });
  }

  /** Closes everything: the selected connection gracefully (FIN), every other connection with RST. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.options.signal?.removeEventListener('abort', this.abortListener);
    this.ended ??= new ClosedError('agent closed');
    this.settle(this.ended);
    this.connection?.close();
    // the connection may still be on the old generation's path: its FIN goes out like any close()'s
    this.retired?.release(true);
    this.shutdown();
    this.setState('closed');
  }

  /** A generation with its own pool: what the pool reports counts only while its generation is in force. */
  private newGeneration(id: number, params: IceParameters, initiatedHere = false): Generation {
    const gen = new Generation(id, params, initiatedHere);
    gen.pool = new ConnectionPool({
      localUfrag: params.ufrag,
      localPwd: params.pwd,
      maxFrameSize: this.options.maxFrameSize,
      dialTimeoutMs: this.options.dialTimeoutMs,
      soRetryDelayMs: this.options.soRetryDelayMs,
      soResynIntervalMs: this.options.soResynIntervalMs,
      signal: gen.abort.signal,
      pending: this.pendingLimits(),
      remote: () => gen.remote,
      events: {
        onCheckOutcome: (pairId, outcome) => {
          if (gen === this.gen) this.onCheckOutcome(pairId, outcome);
        },
        onInboundCheck: (check, answer) => this.onInboundCheckOf(gen, check, answer),
        onConnectionLost: (pairId) => {
          if (gen !== this.gen) return;
          this.checklist?.onConnectionLost(pairId, this.now());
          this.pump();
        },
      },
    });
    return gen;
  }

  /**
   * Starts a new generation (RFC 8445 §9). The old one is kept as {@link retired} when its pair carries the
   * application's data, and discarded otherwise (a restart before any nomination, or a second restart).
   */
  private beginRestart(initiatedHere: boolean): void {
    const old = this.gen;
    const selected = this.checklist?.selectedPair;
    this.keptRole = this.checklist?.role ?? this.keptRole;
    this.previousRemote = old.remote ?? this.previousRemote;
    this.pairSignals.abortAllBut(selected?.id, 'ICE restart');
    if (this.connection && selected) {
      this.retired?.release(false);
      this.retired = new RetiredGeneration(old, this.checklist, this.pool.linkOf(selected.id));
    } else {
      old.discard();
    }
    this.checklist = undefined;
    this.endpoints = new Map();
    this.pendingRemote = [];
    this.remoteLines = new Set();
    this.remoteEnded = false;
    this.gathering = undefined;
    this.checksHeld = false;
    this.pairSignals = new PairSignals();
    this.pairLog = new PairLog();
    this.gen = this.newGeneration(old.id + 1, generateParameters(), initiatedHere);
    log('restart: generation %d (%s)', this.gen.id, initiatedHere ? 'ours' : "the peer's");
    if (this.connection) {
      // without a connection the first connect()'s deadline still runs; with one, the restart has its own
      if (this.restarting) clearTimeout(this.restarting.timer);
      const ms = this.options.connectTimeoutMs;
      const timer = setTimeout(
        () => this.restartFailed(new IceTimeoutError(`ICE restart: no pair nominated within ${ms} ms`)),
        ms,
      );
      this.restarting = { timer, pathFailure: this.restarting?.pathFailure };
    }
    this.emit('parameters', { ...this.params });
    void this.gather().catch(() => undefined);
  }

  /** The restart timed out or every new pair failed: its generation goes; the old path decides what follows. */
  private restartFailed(error: IceTcpError): void {
    const restarting = this.restarting;
    if (!restarting || this.stateValue === 'closed') return;
    this.endRestart();
    log('%s', error.message);
    this.pairSignals.abortAllBut(undefined, 'restart failed');
    this.gen.discard();
    this.emit('error', error);
    if (restarting.pathFailure) this.failSelected(restarting.pathFailure);
    else if (this.stateValue === 'checking' || this.stateValue === 'connected')
      this.setState('disconnected', error);
    if (this.stateValue === 'disconnected') this.scheduleAutoRestart();
  }

  /** `autoRestart`: a restart after the back-off's pause, unless one is pending or under way. */
  private scheduleAutoRestart(): void {
    if (!this.options.autoRestart || this.restarting || this.autoRestartTimer || this.failure || this.ended)
      return;
    const delay = this.backoff.nextDelayMs();
    log('automatic restart in %d ms', delay);
    this.autoRestartTimer = setTimeout(() => {
      this.autoRestartTimer = undefined;
      if (this.stateValue === 'disconnected' && !this.restarting) this.beginRestart(true);
    }, delay);
  }

  /** The path is back, or the agent is over: no automatic restart pending, the back-off starts again. */
  private cancelAutoRestart(): void {
    if (this.autoRestartTimer) clearTimeout(this.autoRestartTimer);
    this.autoRestartTimer = undefined;
    this.backoff.reset();
  }

  private endRestart(): void {
    if (this.restarting) clearTimeout(this.restarting.timer);
    this.restarting = undefined;
  }

  /** The peer's check on a connection of `gen`: the old generation answers on its kept connection (consent). */
  private onInboundCheckOf(
    gen: Generation,
    check: IncomingCheck,
    answer: (result: IncomingCheckResult) => void,
  ): void {
    if (gen === this.gen) {
      this.onInboundCheck(check, answer);
      return;
    }
    const checklist = this.retired?.generation === gen ? this.retired.checklist : undefined;
    if (checklist) answer(checklist.onIncomingCheck(check, this.now()));
  }

  private pendingLimits(): { maxPendingConnections: number; pendingDeadlineMs: number } {
    return {
      maxPendingConnections: this.options.maxUnauthenticatedConnections,
      pendingDeadlineMs: this.options.unauthenticatedTimeoutMs,
    };
  }

  /** Closed or aborted: a call that would start or feed ICE fails at once rather than being ignored. */
  private assertOpen(): void {
    if (this.ended) throw this.ended;
  }

  /** The application's signal fired: every pending operation ends now with its reason as the cause. */
  private abort(error: AbortedError): void {
    if (this.ended || this.stateValue === 'closed') return;
    this.ended = error;
    this.fail(error);
  }

  private now(): number {
    return performance.now() - this.startedAt;
  }

  private noteShared(): void {
    if (!this.remote) this.sharedFirst = true;
  }

  private async runGathering(): Promise<void> {
    const gen = this.gen;
    this.setGatheringState('gathering');
    const addresses = this.options.addresses
      ? explicitLocalAddresses(this.options.addresses)
      : defaultLocalAddresses(this.options.includeLoopback);
    const { errors, resources } = await gatherCandidates(
      {
        addresses,
        tcpTypes: this.options.tcpTypes,
        portRange: this.options.portRange,
        stunServers: this.options.stunServers,
        turnServers: this.options.turnServers,
        forceRelay: this.options.forceRelay,
        timeoutMs: this.options.gatherTimeoutMs,
        signal: gen.abort.signal,
        nextId: () => `L${++this.idCounter}`,
        maxFrameSize: this.options.maxFrameSize,
        pending: this.pendingLimits(),
        onError: (e) => this.emit('error', e),
        onProbeHold: (held) => {
          if (gen !== this.gen) return;
          this.checksHeld = held;
          if (!held) this.pump();
        },
      },
      (endpoint) => this.onEndpoint(endpoint, gen),
    );
    if (gen.abort.signal.aborted) {
      // closed, aborted, failed or restarted meanwhile: what gathering still opened goes at once
      for (const r of resources) r.reset();
      if (this.ended) throw this.ended;
      return;
    }
    gen.resources.push(...resources);
    for (const err of errors) {
      this.emit('error', err instanceof IceTcpError ? err : new GatherError(err.message, { cause: err }));
    }
    this.checklist?.setLocalGatheringComplete(this.now());
    this.setGatheringState('complete');
    this.emit('candidate', null);
    this.pump();
  }

  private onEndpoint(endpoint: LocalEndpoint, gen: Generation): void {
    if (this.stateValue === 'closed' || gen !== this.gen) {
      gen.pool.releaseEndpoint(endpoint);
      return;
    }
    this.endpoints.set(endpoint.candidate.id, endpoint);
    this.pool.addEndpoint(endpoint);
    this.checklist?.addLocalCandidate(endpoint.candidate, this.now());
    this.emit('candidate', publicCandidate(endpoint.candidate));
    this.pump();
  }

  private ensureChecklist(): Checklist {
    if (!this.checklist) {
      // RFC 8445 §9: a restart keeps the role in force
      const role: IceRole =
        this.keptRole ?? this.options.role ?? (this.sharedFirst ? 'controlling' : 'controlled');
      const now = this.now();
      this.checklist = new Checklist({
        role,
        tieBreaker: this.tieBreaker,
        pacingMs: this.options.checkPacingMs,
        checkTimeoutMs: this.options.checkTimeoutMs,
        passiveGraceMs: this.options.passiveGraceMs,
        maxPairs: this.options.maxPairs,
        nominationWaitMs: this.options.nominationWaitMs,
        relayNominationWaitMs: this.options.relayNominationWaitMs,
        remoteEndOfCandidatesTimeoutMs: this.options.remoteEndOfCandidatesTimeoutMs,
      });
      for (const e of this.endpoints.values()) this.checklist.addLocalCandidate(e.candidate, now);
      if (this.gatheringStateValue === 'complete') this.checklist.setLocalGatheringComplete(now);
      for (const c of this.pendingRemote.splice(0)) this.checklist.addRemoteCandidate(c, now);
      if (this.remoteEnded) this.checklist.setRemoteEndOfCandidates(now);
      log('checklist created, role %s', role);
    }
    return this.checklist;
  }

  private maybeStart(): void {
    if (!this.remote || this.failure || this.ended || (this.gen.id === 1 && this.stateValue !== 'new'))
      return;
    void this.gather().catch(() => undefined);
    const checklist = this.ensureChecklist();
    if (checklist.state !== 'new') return;
    checklist.start(this.now());
    // a restart with the old path alive stays completed: data still flows (README, "Connection states")
    if (this.stateValue === 'new' || this.stateValue === 'disconnected') this.setState('checking');
    this.pump();
  }

  /** The pool's report of our check: the checklist learns it, then runs. */
  private onCheckOutcome(pairId: string, outcome: CheckOutcome): void {
    const checklist = this.checklist;
    if (!checklist) return;
    const now = this.now();
    if (outcome.kind === 'success') checklist.onCheckSuccess(pairId, now);
    else if (outcome.kind === 'role-conflict') checklist.onRoleConflict(pairId, now);
    else checklist.onCheckFailure(pairId, now, outcome.reason);
    this.pump();
  }

  /** The peer's authenticated check: may come before its parameters, so it may create the checklist. */
  private onInboundCheck(check: IncomingCheck, answer: (result: IncomingCheckResult) => void): void {
    const result = this.ensureChecklist().onIncomingCheck(check, this.now());
    answer(result);
    this.pump();
  }

  /** Runs the checklist: executes its due actions, then sleeps until its next wake-up. */
  private pump(): void {
    if (!this.checklist || this.checksHeld || this.stateValue === 'closed' || this.stateValue === 'new')
      return;
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        for (const action of this.checklist.poll(this.now())) this.execute(action);
        for (const event of this.path?.poll(this.now()) ?? []) this.onPathEvent(event);
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
    const checklist = this.checklist;
    this.pairSignals.abortMissing((pairId) => checklist.getPair(pairId) !== undefined);
    this.pairLog.observe(checklist.pairs());
    this.schedule();
  }

  private schedule(): void {
    this.clearTimers();
    const wake = earliest(this.checklist?.nextWakeup(), this.path?.nextWakeup());
    if (wake === undefined || this.stateValue === 'closed' || this.stateValue === 'failed') return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(wake - this.now())));
    // consent runs as long as the connection lives, and the socket keeps the process alive by itself: a
    // connection already gone must not hold the process until its consent would have expired
    if (this.path) this.timer.unref();
  }

  /**
   * Timers run before the loop reads its sockets: after a stall of the event loop, an answer that arrived in
   * time would still be unread when consent is judged. So once consent runs, the pump waits for that I/O phase.
   */
  private onTimer(): void {
    this.timer = undefined;
    if (!this.path) {
      this.pump();
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.pump();
    });
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private execute(action: ChecklistAction): void {
    switch (action.type) {
      case 'check': {
        const pair = this.checklist?.getPair(action.pairId);
        if (!pair || !this.remote) return;
        this.pairLog.checkSent(pair, action.useCandidate, action.triggered);
        const params = {
          useCandidate: action.useCandidate,
          priority: checkPriority(pair),
          role: this.checklist?.role ?? 'controlling',
          tieBreaker: this.tieBreaker,
        } as const;
        this.pool.check(pair, params, this.pairSignals.signalOf(pair.id));
        break;
      }
      case 'pair-succeeded':
        if (this.stateValue === 'checking') this.setState('connected');
        break;
      case 'pair-failed':
        this.pairSignals.abort(action.pairId, 'failed');
        this.pool.dropPair(action.pairId);
        break;
      case 'role-changed':
        log('role changed to %s', action.role);
        break;
      case 'selected':
        this.onSelected(action.pairId);
        break;
      case 'failed':
        this.pairLog.observe(this.checklist?.pairs() ?? []);
        this.pairLog.summary(action.reason, this.checklist?.pairs() ?? []);
        if (this.restarting) this.restartFailed(new IceFailedError(`ICE restart failed: ${action.reason}`));
        else this.fail(new IceFailedError(`ICE failed: ${action.reason}`));
        break;
    }
  }

  private onSelected(pairId: string): void {
    const pair = this.checklist?.getPair(pairId);
    const link = this.pool.linkOf(pairId);
    if (!pair || !link) {
      this.fail(new IceFailedError('nominated pair has no connection'));
      return;
    }
    this.pairLog.nominated(pair);
    this.pairSignals.abortAllBut(pairId, 'another pair was nominated');
    link.handedOff = true;
    if (this.connection) {
      this.switchPath(this.connection, pair, link);
      return;
    }
    const connection = new IceConnection(
      link.connection,
      publicCandidate(pair.local),
      candidateFields(pair.remote),
      (frame) => link.handleControlFrame(frame),
      link.takeHeldFrames(),
    );
    link.connection.resume();
    this.connection = connection;
    this.pool.keepOnly(pairId);
    this.path = this.startConsent(pair, link);
    if (this.stateValue === 'checking') this.setState('connected');
    this.emit('selected-pair', { local: publicCandidate(pair.local), remote: candidateFields(pair.remote) });
    this.setState('completed');
    log('selected %s after %d ms', pairId, Math.round(this.now()));
    for (const w of this.waiters) w.resolve(connection);
    this.waiters.clear();
  }

  /** A restart's pair is nominated: the application's connection moves to it, the old path is let go. */
  private switchPath(connection: IceConnection, pair: CandidatePair, link: Link): void {
    const retired = this.retired;
    this.path?.stop();
    const selected = { local: publicCandidate(pair.local), remote: candidateFields(pair.remote) };
    const moved = connection.moveTo(
      link.connection,
      selected,
      (frame) => link.handleControlFrame(frame),
      link.takeHeldFrames(),
      () => retired?.release(true),
    );
    link.connection.resume();
    this.pool.keepOnly(pair.id);
    this.endRestart();
    this.cancelAutoRestart();
    retired?.linger();
    this.path = this.startConsent(pair, link);
    log('restart: switched to %s after %d ms', pair.id, Math.round(this.now()));
    if (this.stateValue === 'checking') this.setState('connected');
    this.emit('selected-pair', selected);
    this.setState('completed');
    if (!moved) this.close();
  }

  private startConsent(pair: CandidatePair, link: Link): ConsentSession {
    // captured now: a restart replaces the agent's credentials, this pair keeps its generation's
    const remote = this.remote;
    const params = this.params;
    const checklist = this.checklist;
    const remoteKey = remote ? shortTermKey(remote.pwd) : undefined;
    const localKey = shortTermKey(params.pwd);
    const session = new ConsentSession({
      link,
      intervalMs: this.options.consentIntervalMs,
      timeoutMs: this.options.consentTimeoutMs,
      rttMs: pair.rttMs,
      // RFC 7675 §5.1: a consent check is an ICE check of the pair, without USE-CANDIDATE
      buildCheck: (transactionId) =>
        buildCheckRequest({
          localUfrag: params.ufrag,
          remoteUfrag: remote?.ufrag ?? '',
          remotePwd: remote?.pwd ?? '',
          priority: checkPriority(pair),
          role: checklist?.role ?? 'controlling',
          tieBreaker: this.tieBreaker,
          useCandidate: false,
          transactionId,
        }).bytes,
      authentic: (response) =>
        remoteKey !== undefined && response.hasIntegrity() && response.verifyIntegrity(remoteKey),
      keepalive: () => buildKeepalive(localKey),
      now: () => this.now(),
      wake: () => this.pump(),
    });
    session.start(this.now());
    return session;
  }

  /** The selected pair's fate: disconnected ⇄ completed, then failed (README, "Connection states"). */
  private onPathEvent(event: PathEvent): void {
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
    switch (event.type) {
      case 'disconnected':
        // while a restart checks, the state tells how the restart goes
        if (this.stateValue === 'completed') this.setState('disconnected', event.reason);
        this.scheduleAutoRestart();
        break;
      case 'restored':
        if (this.stateValue === 'disconnected') this.setState('completed');
        this.cancelAutoRestart();
        break;
      case 'failed':
        if (this.restarting) this.holdPathFailure(event.reason);
        else this.failSelected(event.reason);
        break;
    }
  }

  /**
   * The old path is over while a restart runs: nothing more is sent on it (consent is gone), the agent stays
   * `disconnected` and the restart's own deadline decides (README, "Connection states").
   */
  private holdPathFailure(reason: IceTcpError): void {
    if (!this.restarting) return;
    log('old path failed during the restart: %s', reason.message);
    this.restarting.pathFailure = reason;
    this.path?.stop();
    this.path = undefined;
    this.retired?.release(false);
    if (this.stateValue === 'completed') this.setState('disconnected', reason);
  }

  /** After selection: consent lost or the connection gone for good. */
  private failSelected(reason: IceTcpError): void {
    this.failure = reason;
    log('selected pair failed: %s', reason.message);
    if (reason instanceof ConsentLostError) this.connection?.revoke(reason);
    this.shutdown();
    this.setState('failed', reason);
    if (reason instanceof ConsentLostError) this.emit('error', reason);
  }

  private fail(error: IceTcpError): void {
    if (this.stateValue === 'closed' || this.failure || this.connection) return;
    this.failure = error;
    log('failed: %s', error.message);
    this.settle(error);
    this.shutdown();
    this.setState('failed', error);
  }

  private settle(error: IceTcpError): void {
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
  }

  private shutdown(): void {
    this.lifetime.abort(this.ended ?? this.failure);
    this.gen.abort.abort();
    this.endRestart();
    this.cancelAutoRestart();
    this.retired?.release(false);
    this.pairSignals.abortAllBut(this.checklist?.selectedPair?.id, 'agent stopped');
    this.path?.stop();
    this.clearTimers();
    this.pool.closeAll(this.checklist?.selectedPair?.id);
    for (const r of this.resources.splice(0)) r.reset();
  }

  private setState(state: IceState, reason?: IceTcpError): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    if (reason) this.emit('state', state, reason);
    else this.emit('state', state);
  }

  private setGatheringState(state: GatheringState): void {
    if (this.gatheringStateValue === state) return;
    this.gatheringStateValue = state;
    this.emit('gathering-state', state);
  }
}

/** RFC 8445 §7.1.1: a check's PRIORITY is what a peer-reflexive candidate learned from it would get. */
function checkPriority(pair: CandidatePair): number {
  return candidatePriority({
    type: 'prflx',
    tcpType: pair.local.tcpType,
    otherPreference: otherPreferenceOf(pair.local.priority),
  });
}

/** The sooner of two optional wake-up times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

/** The candidate as signalled: without the agent's internal id and base. */
function publicCandidate(c: LocalCandidate | Candidate): Candidate {
  return { ...candidateFields(c), port: c.tcpType === 'active' ? 9 : c.port };
}

/**
 * Only the {@link Candidate} fields: a remote candidate as the application sees it, without the checklist's
 * id. Its port is kept: a peer-reflexive active candidate's is the peer's real source port, not 9.
 */
function candidateFields(c: Candidate): Candidate {
  return {
    foundation: c.foundation,
    component: c.component,
    transport: 'TCP',
    priority: c.priority,
    address: c.address,
    port: c.port,
    type: c.type,
    tcpType: c.tcpType,
    ...(c.relatedAddress !== undefined ? { relatedAddress: c.relatedAddress } : {}),
    ...(c.relatedPort !== undefined ? { relatedPort: c.relatedPort } : {}),
    extensions: [...c.extensions],
  };
}
