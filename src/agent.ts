import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { ConnectionPool } from './agent/connection-pool.js';
import { generateParameters, generateTieBreaker, type IceParameters } from './agent/credentials.js';
import { type IceAgentOptions, type IceRole, type ResolvedOptions, resolveOptions } from './agent/options.js';
import { buildStats, type IceStats } from './agent/stats.js';
import { candidatePriority } from './candidate/priority.js';
import { formatCandidate, parseCandidate } from './candidate/sdp.js';
import type { Candidate } from './candidate/types.js';
import { Checklist, type ChecklistAction, type LocalCandidate } from './checklist/index.js';
import { IceConnection } from './connection/ice-connection.js';
import {
  AbortedError,
  ClosedError,
  GatherError,
  IceFailedError,
  IceTcpError,
  IceTimeoutError,
  InvalidArgumentError,
} from './errors.js';
import { isStunFrame } from './framing/index.js';
import { defaultLocalAddresses, explicitLocalAddresses } from './gather/addresses.js';
import { type GatherResource, gatherCandidates, type LocalEndpoint } from './gather/index.js';
import { parseDescription } from './signalling/description.js';

const log = createDebug('ice-tcp:agent');

/** Overall state of the agent, as in RTCIceConnectionState. */
export type IceState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';

/** Gathering progress. */
export type GatheringState = 'new' | 'gathering' | 'complete';

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
  state: [IceState];
  'selected-pair': [SelectedPair];
  /** A non-fatal problem (a STUN/TURN server failed, a bad remote candidate); fatal ones reject `connect()`. */
  error: [IceTcpError];
}

/**
 * An ICE-TCP agent (RFC 8445 + RFC 6544): gathers TCP candidates, checks candidate pairs with the peer's,
 * nominates one (regular nomination) and hands the application its TCP connection.
 */
export class IceAgent extends EventEmitter<IceAgentEvents> {
  private readonly options: ResolvedOptions;
  private readonly params: IceParameters;
  private readonly tieBreaker = generateTieBreaker();
  private readonly endpoints = new Map<string, LocalEndpoint>();
  private readonly pendingRemote: Candidate[] = [];
  private readonly resources: GatherResource[] = [];
  private readonly pool: ConnectionPool;
  private checklist: Checklist | undefined;
  private remote: IceParameters | undefined;
  private remoteEnded = false;
  private sharedFirst = false;
  private gathering: Promise<void> | undefined;
  private gatheringStateValue: GatheringState = 'new';
  private stateValue: IceState = 'new';
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private repump = false;
  private connection: IceConnection | undefined;
  private failure: IceTcpError | undefined;
  private readonly waiters = new Set<{
    resolve: (c: IceConnection) => void;
    reject: (e: IceTcpError) => void;
  }>();
  private idCounter = 0;
  private readonly startedAt = performance.now();
  private readonly abortListener = () => this.fail(new AbortedError('aborted by signal'));

  constructor(options: IceAgentOptions = {}) {
    super();
    this.options = resolveOptions(options);
    const generated = generateParameters();
    this.params = { ufrag: this.options.ufrag ?? generated.ufrag, pwd: this.options.pwd ?? generated.pwd };
    this.pool = new ConnectionPool({
      localUfrag: this.params.ufrag,
      localPwd: this.params.pwd,
      maxFrameSize: this.options.maxFrameSize,
      checkTimeoutMs: this.options.checkTimeoutMs,
      soRetryDelayMs: this.options.soRetryDelayMs,
      soResynIntervalMs: this.options.soResynIntervalMs,
      now: () => this.now(),
      checklist: () => this.ensureChecklist(),
      remote: () => this.remote,
      afterEvent: () => this.pump(),
    });
    const signal = this.options.signal;
    if (signal?.aborted) queueMicrotask(this.abortListener);
    else signal?.addEventListener('abort', this.abortListener, { once: true });
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
    if (this.stateValue === 'closed') return Promise.reject(new ClosedError('agent is closed'));
    this.gathering ??= this.runGathering();
    return this.gathering;
  }

  /** Sets the peer's ufrag and password (RFC 8445 §5.3); checks start once these are known. */
  setRemoteParameters(parameters: { ufrag: string; pwd: string }): void {
    if (!parameters || typeof parameters.ufrag !== 'string' || typeof parameters.pwd !== 'string') {
      throw new InvalidArgumentError('remote parameters need string ufrag and pwd');
    }
    if (!/^[A-Za-z0-9+/]{4,256}$/.test(parameters.ufrag) || !/^[A-Za-z0-9+/]{22,256}$/.test(parameters.pwd)) {
      throw new InvalidArgumentError('remote ufrag must be >= 4 and pwd >= 22 ice-chars (RFC 8445 §5.3)');
    }
    if (this.remote && (this.remote.ufrag !== parameters.ufrag || this.remote.pwd !== parameters.pwd)) {
      throw new InvalidArgumentError('remote parameters already set (ICE restart is not supported)');
    }
    this.remote = { ufrag: parameters.ufrag, pwd: parameters.pwd };
    this.maybeStart();
  }

  /**
   * Adds one remote candidate (an `a=candidate` line or a {@link Candidate}); `null` or
   * `'a=end-of-candidates'` means the peer has no more. Bad lines throw `CandidateParseError`.
   */
  addRemoteCandidate(candidate: string | Candidate | null): void {
    if (this.stateValue === 'closed') return;
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
    const d = parseDescription(lines);
    if (d.ufrag === undefined || d.pwd === undefined) {
      throw new InvalidArgumentError('remote description lacks a=ice-ufrag or a=ice-pwd');
    }
    this.setRemoteParameters({ ufrag: d.ufrag, pwd: d.pwd });
    for (const c of d.candidates) this.addRemoteCandidate(c);
    if (d.endOfCandidates) this.addRemoteCandidate(null);
  }

  /**
   * Resolves with the connection once a pair is nominated; rejects with `IceFailedError` when every pair
   * failed, `IceTimeoutError` after `connectTimeoutMs`, `AbortedError` on abort, `ClosedError` on close.
   * Starts gathering if `gather()` was not called.
   */
  connect(): Promise<IceConnection> {
    if (this.connection) return Promise.resolve(this.connection);
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
    });
  }

  /** Closes everything: the selected connection gracefully (FIN), every other connection with RST. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.options.signal?.removeEventListener('abort', this.abortListener);
    this.settle(new ClosedError('agent closed'));
    this.connection?.close();
    this.shutdown();
    this.setState('closed');
  }

  private now(): number {
    return performance.now() - this.startedAt;
  }

  private noteShared(): void {
    if (!this.remote) this.sharedFirst = true;
  }

  private async runGathering(): Promise<void> {
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
        signal: this.options.signal,
        nextId: () => `L${++this.idCounter}`,
        maxFrameSize: this.options.maxFrameSize,
        onError: (e) => this.emit('error', e),
      },
      (endpoint) => this.onEndpoint(endpoint),
    );
    this.resources.push(...resources);
    for (const err of errors) {
      this.emit('error', err instanceof IceTcpError ? err : new GatherError(err.message, { cause: err }));
    }
    if (this.stateValue === 'closed') {
      for (const r of resources) r.reset();
      return;
    }
    this.checklist?.setLocalGatheringComplete(this.now());
    this.setGatheringState('complete');
    this.emit('candidate', null);
    this.pump();
  }

  private onEndpoint(endpoint: LocalEndpoint): void {
    if (this.stateValue === 'closed') {
      this.pool.releaseEndpoint(endpoint);
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
      const role: IceRole = this.options.role ?? (this.sharedFirst ? 'controlling' : 'controlled');
      const now = this.now();
      this.checklist = new Checklist({
        role,
        tieBreaker: this.tieBreaker,
        pacingMs: this.options.checkPacingMs,
        checkTimeoutMs: this.options.checkTimeoutMs,
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
    if (!this.remote || this.stateValue !== 'new') return;
    void this.gather().catch(() => undefined);
    const checklist = this.ensureChecklist();
    checklist.start(this.now());
    this.setState('checking');
    this.pump();
  }

  /** Runs the checklist: executes its due actions, then sleeps until its next wake-up. */
  private pump(): void {
    if (!this.checklist || this.stateValue === 'closed' || this.stateValue === 'new') return;
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        for (const action of this.checklist.poll(this.now())) this.execute(action);
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.checklist?.nextWakeup();
    if (wake === undefined || this.stateValue === 'closed' || this.stateValue === 'failed') return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, Math.ceil(wake - this.now())));
  }

  private execute(action: ChecklistAction): void {
    switch (action.type) {
      case 'check': {
        const pair = this.checklist?.getPair(action.pairId);
        if (!pair || !this.remote) return;
        const priority = candidatePriority({
          type: 'prflx',
          tcpType: pair.local.tcpType,
          otherPreference: (pair.local.priority >> 8) & 0x1fff,
        });
        this.pool.check(pair, {
          useCandidate: action.useCandidate,
          priority,
          role: this.checklist?.role ?? 'controlling',
          tieBreaker: this.tieBreaker,
        });
        break;
      }
      case 'pair-succeeded':
        if (this.stateValue === 'checking') this.setState('connected');
        break;
      case 'pair-failed':
        this.pool.dropPair(action.pairId);
        break;
      case 'role-changed':
        log('role changed to %s', action.role);
        break;
      case 'selected':
        this.onSelected(action.pairId);
        break;
      case 'failed':
        this.fail(new IceFailedError(`ICE failed: ${action.reason}`));
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
    link.handedOff = true;
    const connection = new IceConnection(
      link.connection,
      publicCandidate(pair.local),
      pair.remote,
      isStunFrame,
      link.takeHeldFrames(),
    );
    link.connection.resume();
    this.connection = connection;
    this.pool.keepOnly(pairId);
    connection.on('close', () => {
      if (this.stateValue === 'completed') this.setState('disconnected');
    });
    if (this.stateValue === 'checking') this.setState('connected');
    this.emit('selected-pair', { local: publicCandidate(pair.local), remote: pair.remote });
    this.setState('completed');
    log('selected %s after %d ms', pairId, Math.round(this.now()));
    for (const w of this.waiters) w.resolve(connection);
    this.waiters.clear();
  }

  private fail(error: IceTcpError): void {
    if (this.stateValue === 'closed' || this.failure || this.connection) return;
    this.failure = error;
    log('failed: %s', error.message);
    this.settle(error);
    this.shutdown();
    this.setState('failed');
  }

  private settle(error: IceTcpError): void {
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
  }

  private shutdown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pool.closeAll(this.checklist?.selectedPair?.id);
    for (const r of this.resources.splice(0)) r.reset();
  }

  private setState(state: IceState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private setGatheringState(state: GatheringState): void {
    if (this.gatheringStateValue === state) return;
    this.gatheringStateValue = state;
    this.emit('gathering-state', state);
  }
}

/** The candidate as signalled: without the agent's internal id and base. */
function publicCandidate(c: LocalCandidate | Candidate): Candidate {
  return {
    foundation: c.foundation,
    component: c.component,
    transport: 'TCP',
    priority: c.priority,
    address: c.address,
    port: c.tcpType === 'active' ? 9 : c.port,
    type: c.type,
    tcpType: c.tcpType,
    ...(c.relatedAddress !== undefined ? { relatedAddress: c.relatedAddress } : {}),
    ...(c.relatedPort !== undefined ? { relatedPort: c.relatedPort } : {}),
    extensions: [...c.extensions],
  };
}
