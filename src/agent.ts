import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { RestartBackoff } from './agent/auto-restart.js';
import { checkPriority, publicCandidate, selectedPairOf } from './agent/candidate-view.js';
import { CheckRound } from './agent/check-round.js';
import type { CheckOutcome, ConnectionPool } from './agent/connection-pool.js';
import type { ConsentSession, PathEvent } from './agent/consent-session.js';
import { generateParameters, generateTieBreaker, type IceParameters } from './agent/credentials.js';
import type { IceAgentEvents } from './agent/events.js';
import type { Generation } from './agent/generation.js';
import { createChecklist, createGeneration } from './agent/generation-setup.js';
import { Generations } from './agent/generations.js';
import type { Link } from './agent/link.js';
import { firstRole, liteFlag, litePeerRefusal } from './agent/lite.js';
import { gatherLocal } from './agent/local-gathering.js';
import { type IceAgentOptions, type IceRole, type ResolvedOptions, resolveOptions } from './agent/options.js';
import { checkRemoteParameters, isEndOfCandidates, permittedAddresses } from './agent/remote-intake.js';
import { moveConnection, openConnection, startConsentSession } from './agent/selected-path.js';
import type { GatheringState, IceState } from './agent/state.js';
import { buildStats, type IceStats } from './agent/stats.js';
import { StreamResumeNegotiation } from './agent/stream-resume.js';
import { WakeTimer } from './agent/wake-timer.js';
import { formatIceOptions, parseDescription } from './candidate/description.js';
import { formatCandidate } from './candidate/sdp.js';
import type { Candidate } from './candidate/types.js';
import type {
  CandidatePair,
  Checklist,
  ChecklistAction,
  IncomingCheck,
  IncomingCheckResult,
} from './checklist/index.js';
import type { IceConnection } from './connection/ice-connection.js';
import {
  AbortedError,
  CandidateLimitError,
  ClosedError,
  ConsentLostError,
  IceFailedError,
  type IceTcpError,
  IceTimeoutError,
  InvalidArgumentError,
} from './errors.js';
import type { LocalEndpoint } from './gather/index.js';
import { loopClock } from './transport/index.js'; // loop time: a stall of the loop expires no deadline

const log = createDebug('ice-tcp:agent');

export type { IceAgentEvents, SelectedPair } from './agent/events.js';
export type { GatheringState, IceState } from './agent/state.js';

/**
 * An ICE-TCP agent (RFC 8445 + RFC 6544): gathers TCP candidates, checks candidate pairs with the peer's,
 * nominates one (regular nomination) and hands the application its TCP connection.
 */
export class IceAgent extends EventEmitter<IceAgentEvents> {
  private readonly options: ResolvedOptions;
  private readonly tieBreaker = generateTieBreaker();
  /** The generation in force (RFC 8445 §9), and the retired one while its connection still carries data. */
  private readonly gens: Generations;
  /** A restart is under way: its deadline, and the old path's final verdict if it came meanwhile. */
  private restarting: { timer: NodeJS.Timeout; pathFailure?: IceTcpError } | undefined;
  /** `autoRestart`: the pending automatic restart, and the back-off between attempts. */
  private autoRestartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new RestartBackoff();
  /** `icetcp+resume`: advertised, the peer's answer, and the keys of each selected pair's resumable stream. */
  private readonly resume: StreamResumeNegotiation;
  /** The generation's checks: endpoints, the peer's candidates, the checklist, the pairs' signals and log. */
  private round: CheckRound;
  /** The role the last generation ended with: a restart keeps it. */
  private keptRole: IceRole | undefined;
  private sharedFirst = false;
  private gatheringStateValue: GatheringState = 'new';
  private stateValue: IceState = 'new';
  /** The checklist's and consent's next wake-up (agent/wake-timer.ts). */
  private readonly wake = new WakeTimer(
    () => this.now(),
    () => this.pump(),
  );
  private pumping = false;
  private repump = false;
  private connection: IceConnection | undefined;
  /** Consent freshness and failure detection of the selected pair (RFC 7675). */
  private path: ConsentSession | undefined;
  private failure: IceTcpError | undefined;
  private waiters: Set<{ resolve: (c: IceConnection) => void; reject: (e: IceTcpError) => void }> | undefined;
  private idCounter = 0;
  private readonly startedAt = loopClock.now();
  /** Aborted when the agent closes, fails or is aborted: ends gathering and every pending operation at once. */
  private readonly lifetime = new AbortController();
  /** Why the agent stopped early (closed or aborted): what pending and later operations reject with. */
  private ended: IceTcpError | undefined;
  private readonly abortListener = () =>
    this.abort(new AbortedError('aborted by signal', { cause: this.options.signal?.reason }));

  constructor(options: IceAgentOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.resume = new StreamResumeNegotiation(this.options.streamResume);
    this.round = new CheckRound(this.options.maxRemoteCandidates);
    const generated = generateParameters();
    this.gens = new Generations(
      (id, params, initiatedHere) => this.newGeneration(id, params, initiatedHere),
      {
        ufrag: this.options.ufrag ?? generated.ufrag,
        pwd: this.options.pwd ?? generated.pwd,
      },
    );
    const signal = this.options.signal;
    if (signal?.aborted) queueMicrotask(this.abortListener);
    else signal?.addEventListener('abort', this.abortListener, { once: true });
  }

  /** The ICE generation in force: credentials, the peer's, the pool; a restart makes a new one. */
  private get gen(): Generation {
    return this.gens.current;
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

  /** Our ufrag and password, to send to the peer (reading them marks this agent as the offerer). */
  get localParameters(): IceParameters {
    this.noteShared();
    const { params, round } = this;
    return { ...params, ...this.resume.advertised(), ...liteFlag(this.options), ...round.natAdvert() };
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
    return this.round.checklist?.role ?? this.options.role;
  }

  /** Gathers local candidates; each is emitted as `'candidate'`, then `null`. Idempotent. */
  gather(): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.round.gathering ??= this.runGathering();
    return this.round.gathering;
  }

  /** Sets the peer's ufrag, password (RFC 8445 §5.3) and ICE `options`; checks start once these are known. */
  setRemoteParameters(parameters: IceParameters): void {
    this.assertOpen();
    const next = checkRemoteParameters(parameters);
    // before the repeat check: a line reader sends the credentials again when the options line follows them
    this.resume.onRemoteOptions(parameters.options);
    const refused = litePeerRefusal(this.options.lite, next);
    if (refused) {
      this.fail(refused);
      throw refused;
    }
    const remote = this.gens.lastRemote;
    // the same credentials again may bring the peer's NAT behaviour, measured once its gathering ended
    if (remote && remote.ufrag === next.ufrag && remote.pwd === next.pwd) {
      this.round.setRemoteNat(next.nat, this.now());
      this.pump();
      return;
    }
    // after a failure nothing restarts: a new agent is needed
    if (this.failure && remote) throw this.failure;
    const awaitingAnswer = this.gen.initiatedHere && this.round.checklist?.selectedPair === undefined;
    // a generation whose restart failed is gone: whatever the peer sends now starts a new one
    if (this.gen.abort.signal.aborted || (this.remote && !awaitingAnswer)) {
      // new credentials from the peer: it restarted (RFC 8445 §9.1.1), so do we, keeping our role
      log('the peer restarted ICE');
      this.beginRestart(false);
    } else if (this.remote) {
      // our restart is still open: the newest answer wins (both sides restarted at once, or we did it twice)
      log('the peer answered our restart again');
    }
    this.remote = next;
    this.round.setRemoteNat(next.nat, this.now());
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
    if (isEndOfCandidates(candidate)) {
      this.round.intake.ended = true;
      this.round.checklist?.setRemoteEndOfCandidates(this.now());
      this.pump();
      return;
    }
    const parsed = this.round.intake.admit(candidate);
    for (const address of permittedAddresses(parsed)) this.pool.permitRemote(address);
    if (this.round.checklist) {
      this.round.checklist.addRemoteCandidate(parsed, this.now());
      this.pump();
    } else {
      this.round.intake.hold(parsed);
    }
  }

  /** Our description as `a=` lines: ufrag, pwd, trickle, candidates so far, end-of-candidates once gathered. */
  localDescription(): string[] {
    this.noteShared();
    const lines = [
      `a=ice-ufrag:${this.params.ufrag}`,
      `a=ice-pwd:${this.params.pwd}`,
      formatIceOptions(this.resume.localOptions),
      ...(this.options.lite ? ['a=ice-lite'] : []),
      ...this.round.natLines(),
    ];
    for (const e of this.round.endpoints.values())
      lines.push(`a=${formatCandidate(publicCandidate(e.candidate))}`);
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
    this.setRemoteParameters({ ufrag: d.ufrag, pwd: d.pwd, options: d.options, lite: d.lite, nat: d.nat });
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
      this.waiters ??= new Set();
      this.waiters.add(waiter);
    });
  }

  /** Per-pair state, priority, nomination, round-trip time, checks and bytes. */
  getStats(): IceStats {
    return buildStats({
      state: this.stateValue,
      role: this.role,
      pairs: this.round.checklist?.pairs() ?? [],
      selectedPairId: this.round.checklist?.selectedPair?.id,
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
    this.gens.retired?.release(true);
    this.shutdown();
    this.setState('closed');
  }

  /** A generation with its own pool: what the pool reports counts only while its generation is in force. */
  private newGeneration(id: number, params: IceParameters, initiatedHere = false): Generation {
    return createGeneration(id, params, initiatedHere, this.options, this.resume, (gen) => ({
      onCheckOutcome: (pairId, outcome) => {
        if (gen === this.gen) this.onCheckOutcome(pairId, outcome);
      },
      onInboundCheck: (check, answer) => this.onInboundCheckOf(gen, check, answer),
      onConnectionLost: (pairId) => {
        if (gen !== this.gen) return;
        this.round.checklist?.onConnectionLost(pairId, this.now());
        this.pump();
      },
    }));
  }

  /**
   * Starts a new generation (RFC 8445 §9). The old one is retired (agent/generations.ts) when its pair carries
   * the application's data, and discarded otherwise (a restart before any nomination, or a second restart).
   */
  private beginRestart(initiatedHere: boolean): void {
    const checklist = this.round.checklist;
    const selected = checklist?.selectedPair;
    this.keptRole = checklist?.role ?? this.keptRole;
    this.round.pairSignals.abortAllBut(selected?.id, 'ICE restart');
    const keep = this.connection && selected ? { checklist, link: this.pool.linkOf(selected.id) } : undefined;
    this.gens.advance(initiatedHere, keep);
    this.round = new CheckRound(this.options.maxRemoteCandidates);
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
    this.emit('parameters', { ...this.params, ...this.resume.advertised(), ...liteFlag(this.options) });
    void this.gather().catch(() => undefined);
  }

  /** The restart timed out or every new pair failed: its generation goes; the old path decides what follows. */
  private restartFailed(error: IceTcpError): void {
    const restarting = this.restarting;
    if (!restarting || this.stateValue === 'closed') return;
    this.endRestart();
    log('%s', error.message);
    this.round.pairSignals.abortAllBut(undefined, 'restart failed');
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
    const checklist = this.gens.retiredChecklistOf(gen);
    if (checklist) answer(checklist.onIncomingCheck(check, this.now()));
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
    return loopClock.now() - this.startedAt;
  }

  private noteShared(): void {
    if (!this.remote) this.sharedFirst = true;
  }

  private async runGathering(): Promise<void> {
    const gen = this.gen;
    this.setGatheringState('gathering');
    const { errors, resources, nat } = await gatherLocal(this.options, {
      signal: gen.abort.signal,
      ufrag: gen.params.ufrag,
      nextId: () => `L${++this.idCounter}`,
      onError: (e) => this.emit('error', e),
      onProbeHold: (held) => {
        if (gen !== this.gen) return;
        this.round.checksHeld = held;
        if (!held) this.pump();
      },
      onEndpoint: (endpoint) => this.onEndpoint(endpoint, gen),
      controlling: () => this.role === 'controlling',
    });
    if (gen.abort.signal.aborted) {
      // closed, aborted, failed or restarted meanwhile: what gathering still opened goes at once
      for (const r of resources) r.reset();
      if (this.ended) throw this.ended;
      return;
    }
    gen.resources.push(...resources);
    this.round.setLocalNat(nat, this.now());
    for (const err of errors) this.emit('error', err);
    this.round.checklist?.setLocalGatheringComplete(this.now());
    this.setGatheringState('complete');
    this.emit('candidate', null);
    this.pump();
  }

  private onEndpoint(endpoint: LocalEndpoint, gen: Generation): void {
    if (this.stateValue === 'closed' || gen !== this.gen) {
      gen.pool.releaseEndpoint(endpoint);
      return;
    }
    this.round.endpoints.set(endpoint.candidate.id, endpoint);
    this.pool.addEndpoint(endpoint);
    this.round.checklist?.addLocalCandidate(endpoint.candidate, this.now());
    this.emit('candidate', publicCandidate(endpoint.candidate));
    this.pump();
  }

  private ensureChecklist(): Checklist {
    if (this.round.checklist) return this.round.checklist;
    // RFC 8445 §9: a restart keeps the role in force
    const role: IceRole = this.keptRole ?? firstRole(this.options, this.remote, this.sharedFirst);
    const checklist = createChecklist(this.options, role, this.tieBreaker);
    this.round.adopt(checklist, this.gatheringStateValue === 'complete', this.now());
    log('checklist created, role %s', role);
    return checklist;
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
    const checklist = this.round.checklist;
    if (!checklist) return;
    const now = this.now();
    if (outcome.kind === 'success') checklist.onCheckSuccess(pairId, now);
    else if (outcome.kind === 'role-conflict') checklist.onRoleConflict(pairId, now);
    else checklist.onCheckFailure(pairId, now, outcome.reason, outcome.answered);
    this.pump();
  }

  /** The peer's authenticated check: may come before its parameters, so it may create the checklist. */
  private onInboundCheck(check: IncomingCheck, answer: (result: IncomingCheckResult) => void): void {
    const result = this.ensureChecklist().onIncomingCheck(check, this.now());
    answer(result);
    if (result.response === 'success' && result.pairId === this.round.checklist?.selectedPair?.id)
      this.path?.onPeerCheck(this.now());
    this.pump();
  }

  /** Runs the checklist: executes its due actions, then sleeps until its next wake-up. */
  private pump(): void {
    if (
      !this.round.checklist ||
      this.round.checksHeld ||
      this.stateValue === 'closed' ||
      this.stateValue === 'new'
    )
      return;
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        for (const action of this.round.checklist.poll(this.now())) this.execute(action);
        for (const event of this.path?.poll(this.now()) ?? []) this.onPathEvent(event);
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
    this.round.afterRun();
    this.schedule();
  }

  private schedule(): void {
    const wake = earliest(this.round.checklist?.nextWakeup(), this.path?.nextWakeup());
    if (wake === undefined || this.stateValue === 'closed' || this.stateValue === 'failed') {
      this.wake.clear();
      return;
    }
    // consent runs as long as the connection lives, and the socket keeps the process alive by itself: a
    // connection already gone must not hold the process until its consent would have expired
    const consentDue = () => (this.path?.nextWakeup() ?? Number.POSITIVE_INFINITY) <= this.now();
    this.wake.arm(wake, this.path !== undefined, consentDue);
  }

  private execute(action: ChecklistAction): void {
    switch (action.type) {
      case 'check': {
        const pair = this.round.checklist?.getPair(action.pairId);
        if (!pair || !this.remote) return;
        this.round.pairLog.checkSent(pair, action.useCandidate, action.triggered);
        const params = {
          useCandidate: action.useCandidate,
          priority: checkPriority(pair),
          role: this.round.checklist?.role ?? 'controlling',
          tieBreaker: this.tieBreaker,
        } as const;
        this.pool.check(pair, params, this.round.pairSignals.signalOf(pair.id), action.timeoutMs);
        break;
      }
      case 'pair-succeeded':
        if (this.stateValue === 'checking') this.setState('connected');
        break;
      case 'pair-failed':
        this.round.pairSignals.abort(action.pairId, 'failed');
        this.pool.dropPair(action.pairId);
        break;
      case 'role-changed':
        log('role changed to %s', action.role);
        break;
      case 'selected':
        this.onSelected(action.pairId);
        break;
      case 'failed':
        this.round.pairLog.observe(this.round.checklist?.pairs() ?? []);
        this.round.pairLog.summary(action.reason, this.round.checklist?.pairs() ?? []);
        if (this.restarting) this.restartFailed(new IceFailedError(`ICE restart failed: ${action.reason}`));
        else this.fail(new IceFailedError(`ICE failed: ${action.reason}`));
        break;
    }
  }

  private onSelected(pairId: string): void {
    const pair = this.round.checklist?.getPair(pairId);
    const link = this.pool.linkOf(pairId);
    if (!pair || !link) {
      this.fail(new IceFailedError('nominated pair has no connection'));
      return;
    }
    this.round.pairLog.nominated(pair);
    this.round.pairSignals.abortAllBut(pairId, 'another pair was nominated');
    link.handedOff = true;
    if (this.connection) {
      this.switchPath(this.connection, pair, link);
      return;
    }
    const connection = openConnection(pair, link, this.resume.keysFor(this.params, this.remote));
    this.connection = connection;
    this.pool.keepOnly(pairId);
    this.path = this.startConsent(pair, link);
    if (this.stateValue === 'checking') this.setState('connected');
    this.emit('selected-pair', selectedPairOf(pair));
    this.setState('completed');
    log('selected %s after %d ms', pairId, Math.round(this.now()));
    for (const w of this.waiters ?? []) w.resolve(connection);
    this.waiters = undefined;
  }

  /** A restart's pair is nominated: the application's connection moves to it, the old path is let go. */
  private switchPath(connection: IceConnection, pair: CandidatePair, link: Link): void {
    const retired = this.gens.retired;
    this.path?.stop();
    const selected = selectedPairOf(pair);
    const keys = this.resume.keysFor(this.params, this.remote);
    const moved = moveConnection(connection, selected, link, () => retired?.release(true), keys);
    this.pool.keepOnly(pair.id);
    this.endRestart();
    this.cancelAutoRestart();
    this.gens.switched();
    this.path = this.startConsent(pair, link);
    log('restart: switched to %s after %d ms', pair.id, Math.round(this.now()));
    if (this.stateValue === 'checking') this.setState('connected');
    this.emit('selected-pair', selected);
    this.setState('completed');
    if (!moved) this.close();
  }

  private startConsent(pair: CandidatePair, link: Link): ConsentSession {
    // captured now: a restart replaces the agent's credentials, this pair keeps its generation's
    const checklist = this.round.checklist;
    const endpoint = this.round.endpoints.get(pair.local.id);
    return startConsentSession({
      pair,
      link,
      ...(endpoint?.kind === 'relay' ? { relayLost: () => endpoint.lost() } : {}),
      params: this.params,
      remote: this.remote,
      role: () => checklist?.role ?? 'controlling',
      tieBreaker: this.tieBreaker,
      intervalMs: this.options.consentIntervalMs,
      timeoutMs: this.options.consentTimeoutMs,
      lite: this.options.lite,
      now: () => this.now(),
      wake: () => this.pump(),
    });
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
    this.gens.retired?.release(false);
    if (this.stateValue === 'completed') this.setState('disconnected', reason);
  }

  /** After selection: consent lost or the connection gone for good. */
  private failSelected(reason: IceTcpError): void {
    this.failure = reason;
    log('selected pair failed: %s', reason.message);
    if (reason instanceof ConsentLostError) this.connection?.revoke(reason);
    else this.connection?.pathGone(reason);
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
    for (const w of this.waiters ?? []) w.reject(error);
    this.waiters = undefined;
  }

  private shutdown(): void {
    this.lifetime.abort(this.ended ?? this.failure);
    this.gen.abort.abort();
    this.endRestart();
    this.cancelAutoRestart();
    this.gens.releaseAll();
    this.round.pairSignals.abortAllBut(this.round.checklist?.selectedPair?.id, 'agent stopped');
    this.path?.stop();
    this.wake.clear();
    this.pool.closeAll(this.round.checklist?.selectedPair?.id);
    for (const r of this.gen.resources.splice(0)) r.reset();
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

/** The sooner of two optional wake-up times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
