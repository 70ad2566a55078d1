import createDebug from 'debug';
import type { CandidatePair, IncomingCheck, IncomingCheckResult } from '../checklist/index.js';
import { IceTcpError, InvalidArgumentError } from '../errors.js';
import type { LocalEndpoint } from '../gather/index.js';
import { type StunMessage, StunMethod, shortTermKey } from '../stun/index.js';
import {
  DEFAULT_FAST_RETRIES,
  type FramedConnection,
  OutstandingConnections,
  type PendingLimits,
  type SimultaneousOpenPort,
} from '../transport/index.js';
import {
  authenticateCheck,
  buildCheckError,
  buildCheckRequest,
  buildCheckSuccess,
  interpretCheckResponse,
  peerIceOptions,
} from './check-messages.js';
import type { IceParameters } from './credentials.js';
import { type DataVerdict, Link, type LinkOwner } from './link.js';
import type { IceRole } from './options.js';
import { dialPassive, RelayRedials } from './relay-dial.js';

const log = createDebug('ice-tcp:pool');

/** Strangers' connections let in per event-loop turn (see ConnectionPool.queueStranger). */
const STRANGERS_PER_TURN = 8;

/** When a check through a relay is sent again while unanswered (ms after the first transmission). */
const RELAYED_CHECK_RETRANSMIT_MS = [100, 300, 700, 1500];

/** How our check on a pair ended, as the pool saw it on the wire. */
export type CheckOutcome =
  | { kind: 'success' }
  /** Answered 487 (RFC 8445 §7.2.5.1). */
  | { kind: 'role-conflict' }
  /** No connection, the connection closed, or (`answered`) an error response. */
  | { kind: 'failure'; reason: string; answered?: true };

/**
 * What the pool reports to the agent, the one driver of the checklist: the pool never calls the checklist,
 * the agent feeds it these outcomes and then runs it.
 */
export interface PoolEvents {
  /** Our check on the pair ended (a check cancelled through its signal reports nothing). */
  onCheckOutcome(pairId: string, outcome: CheckOutcome): void;
  /**
   * The peer's check arrived with our credentials. The agent decides and calls `answer` before it runs the
   * checklist, so that the connection is bound to its pair before any check of ours looks for it.
   */
  onInboundCheck(check: IncomingCheck, answer: (result: IncomingCheckResult) => void): void;
  /** The connection of a pair still in play closed. */
  onConnectionLost(pairId: string): void;
}

/**
 * ICE options carried in the checks (ICE-TCP-OPTIONS): what ours state, and what the peer's authenticated
 * checks and answers stated, for a peer whose signalling lost part of the parameters (agent/stream-resume.ts).
 */
export interface CheckIceOptions {
  /** The tokens our checks and success responses state (none: the attribute is left out). */
  inChecks(): readonly string[];
  /** The tokens an authenticated check or success response of the peer stated. */
  fromPeer(options: readonly string[]): void;
}

/** What the pool needs from the agent. */
export interface ConnectionPoolConfig {
  localUfrag: string;
  localPwd: string;
  maxFrameSize: number;
  /** Longest set-up of a check's connection (the agent's `dialTimeoutMs`). */
  dialTimeoutMs: number;
  soRetryDelayMs: number;
  soResynIntervalMs: number;
  /** Limits on not yet authenticated inbound connections (relayed ones here; ports apply their own). */
  pending: Required<PendingLimits>;
  /** Aborted when the agent ends: dials in flight stop at once instead of running to their timeout. */
  signal: AbortSignal;
  remote(): IceParameters | undefined;
  events: PoolEvents;
  iceOptions?: CheckIceOptions;
}

/** Parameters of one outgoing check. */
export interface CheckParameters {
  useCandidate: boolean;
  priority: number;
  role: IceRole;
  tieBreaker: bigint;
}

/**
 * The agent's TCP connections during checking: one per candidate pair, opened the way the pair's local
 * candidate dictates (active dial, S-O dial, inbound on passive/S-O, TURN Connect), reused for the checks and
 * then for data. It turns checks into STUN on the wire, answers the peer's checks and reports what happened
 * through {@link PoolEvents}; the ICE decisions stay with the agent's checklist.
 */
/** A dial in flight for a pair: the link it ends with, the pair's signal, and how the peer's connection cancels it. */
interface Dial {
  link: Promise<Link | undefined>;
  signal: AbortSignal;
  superseded: AbortController;
}

export class ConnectionPool implements LinkOwner {
  private readonly localKey: Buffer;
  private readonly endpoints = new Map<string, LocalEndpoint>();
  private readonly links = new Map<string, Link>();
  private readonly redials = new RelayRedials();
  // The next four are made on first use (and the first two dropped once empty): a server holds a pool per
  // session long after it connected, and an empty Map or Set is ~0.2 KB of each of 10,000 sessions.
  private dialing: Map<string, Dial> | undefined;
  /** Inbound connections not bound to a pair yet. */
  private unbound: Set<Link> | undefined;
  private watchedPorts: Set<object> | undefined;
  /** Relayed inbound connections not authenticated yet, per relay candidate. */
  private relayPending: Map<string, OutstandingConnections> | undefined;
  /** Remote candidate IPs, so that relays gathered later permit them too. */
  private readonly remoteAddresses = new Set<string>();
  /** Inbound connections from addresses the peer never signalled, paused until their turn. */
  private readonly strangers: Link[] = [];
  private strangersTurnScheduled = false;
  private closing = false;
  private kept: string | undefined;
  /** Frames from the network dropped as unusable, for the agent's stats. */
  droppedMessages = 0;

  constructor(private readonly config: ConnectionPoolConfig) {
    this.localKey = shortTermKey(config.localPwd);
  }

  /** Takes over a gathered candidate's socket object and accepts its inbound connections. */
  addEndpoint(endpoint: LocalEndpoint): void {
    this.endpoints.set(endpoint.candidate.id, endpoint);
    this.watchedPorts ??= new Set();
    if (endpoint.kind === 'passive') {
      if (this.watchedPorts.has(endpoint.listener)) return;
      this.watchedPorts.add(endpoint.listener);
      endpoint.listener.on('connection', (c) => this.adopt(c, endpoint.candidate.id, 'active'));
    } else if (endpoint.kind === 'so') {
      if (this.watchedPorts.has(endpoint.port)) return;
      this.watchedPorts.add(endpoint.port);
      endpoint.port.on('connection', (c) => this.adopt(c, endpoint.candidate.id, 'so'));
    } else if (endpoint.kind === 'relay') {
      // peers reaching the relayed address arrive like connections accepted on a passive listener, and are
      // held to the same cap and deadline until they authenticate
      const pending = new OutstandingConnections(
        this.config.pending.maxPendingConnections,
        this.config.pending.pendingDeadlineMs,
      );
      this.relayPending ??= new Map();
      this.relayPending.set(endpoint.candidate.id, pending);
      endpoint.onInbound((c) => {
        pending.admit(c);
        this.adopt(c, endpoint.candidate.id, 'active');
      });
      for (const address of this.remoteAddresses) endpoint.permit(address);
    }
  }

  /** A remote candidate's IP: relays must permit it before the peer can connect through them (RFC 8656 §9). */
  permitRemote(address: string): void {
    if (this.remoteAddresses.has(address)) return;
    this.remoteAddresses.add(address);
    for (const e of this.endpoints.values()) if (e.kind === 'relay') e.permit(address);
  }

  /** Closes the socket object of an endpoint that arrived after the agent closed. */
  releaseEndpoint(endpoint: LocalEndpoint): void {
    if (endpoint.kind === 'passive') endpoint.listener.close();
    else if (endpoint.kind === 'so') endpoint.port.close();
    else if (endpoint.kind === 'relay') endpoint.close();
  }

  /** The link carrying a pair, if any. */
  linkOf(pairId: string): Link | undefined {
    return this.links.get(pairId);
  }

  /** Bytes sent and received on a pair's connection. */
  bytesOf(pairId: string): { sent: number; received: number } {
    const socket = this.links.get(pairId)?.connection.socket;
    return { sent: socket?.bytesWritten ?? 0, received: socket?.bytesRead ?? 0 };
  }

  /**
   * Sends one check on a pair, opening its connection first when needed; the outcome is reported through
   * {@link PoolEvents.onCheckOutcome}. `signal` is the pair's: aborting it cancels the dial and the transaction.
   * `dialTimeoutMs`: longer than the agent's for a kept S-O SYN (checklist/peer-wait.ts).
   */
  check(pair: CandidatePair, params: CheckParameters, signal: AbortSignal, dialTimeoutMs?: number): void {
    const existing = this.links.get(pair.id);
    if (existing && !existing.closed) {
      this.sendCheck(existing, pair, params, signal);
      return;
    }
    let pending = this.dialing?.get(pair.id);
    // a dial cancelled with its pair cannot serve the pair revived by a later check
    if (!pending || pending.signal.aborted) {
      const superseded = new AbortController();
      const link = this.open(pair, signal, superseded.signal, dialTimeoutMs ?? this.config.dialTimeoutMs);
      const entry = { link, signal, superseded };
      pending = entry;
      this.dialing ??= new Map();
      this.dialing.set(pair.id, entry);
      void entry.link.finally(() => {
        if (this.dialing?.get(pair.id) !== entry) return;
        this.dialing.delete(pair.id);
        if (this.dialing.size === 0) this.dialing = undefined;
      });
    }
    void pending.link.then((link) => {
      if (link && !link.closed) this.sendCheck(link, pair, params, signal);
    });
  }

  /** Resets the connection of a failed pair. */
  dropPair(pairId: string): void {
    const link = this.links.get(pairId);
    if (link && !link.handedOff) {
      this.links.delete(pairId);
      link.reset();
    }
  }

  /** After nomination: resets every other connection and stops accepting new ones. */
  keepOnly(pairId: string): void {
    this.kept = pairId;
    this.closeAll(pairId);
  }

  /** Resets every connection but `exceptPairId` and closes listeners and S-O ports. */
  closeAll(exceptPairId?: string): void {
    this.closing = true;
    for (const [id, link] of this.links) {
      if (id !== exceptPairId) link.reset();
    }
    for (const link of this.unbound ?? []) link.reset();
    this.unbound = undefined;
    for (const e of this.endpoints.values()) this.releaseEndpoint(e);
  }

  onRequest(link: Link, request: StunMessage): void {
    if (request.method !== StunMethod.Binding) {
      link.send(buildCheckError(request, 400, 'Bad Request'));
      return;
    }
    const auth = authenticateCheck(request, this.config.localUfrag, this.localKey);
    const remote = this.config.remote();
    if (!auth.ok || (remote && auth.remoteUfrag !== remote.ufrag)) {
      const code = auth.ok ? 401 : auth.code;
      if (log.enabled) log('%s: check rejected with %d', link.describe(), code);
      this.droppedMessages++;
      const answer = buildCheckError(request, code, auth.ok ? 'Unauthorized' : auth.reason);
      if (link.authenticated) link.send(answer);
      else {
        link.sendSoon(answer);
        this.rejectStranger(link);
      }
      return;
    }
    if (this.closing && link.pairId !== this.kept) return;
    this.notePeerOptions(request);
    const check: IncomingCheck = {
      localCandidateId: link.localCandidateId,
      remoteAddress: link.remoteAddress,
      remotePort: link.remotePort,
      remoteTcpType: link.remoteTcpType,
      priority: request.priority() ?? 0,
      useCandidate: request.useCandidate(),
      iceControlling: request.iceControlling(),
      iceControlled: request.iceControlled(),
    };
    this.config.events.onInboundCheck(check, (result) => this.answer(link, request, result));
  }

  isOwnMessage(message: StunMessage): boolean {
    const remote = this.config.remote();
    if (remote === undefined) return false;
    if (message.isRequest()) {
      const auth = authenticateCheck(message, this.config.localUfrag, this.localKey);
      return auth.ok && auth.remoteUfrag === remote.ufrag;
    }
    return message.hasIntegrity() && message.verifyIntegrity(shortTermKey(remote.pwd));
  }

  onInputDropped(link: Link, reason: string): void {
    this.droppedMessages++;
    if (log.enabled) log('%s: input dropped: %s', link.describe(), reason);
    // junk on an inbound connection nobody authenticated (a response to no request of ours, ...): a peer sends
    // its check first, so this is a stranger that cannot authenticate any more than one answered 401
    if (!link.authenticated && !link.rejected && this.pendingOf(link)?.reject(link.connection)) link.reject();
  }

  onDataBeforeSelection(link: Link): DataVerdict {
    return link.authenticated ? 'hold' : 'reject';
  }

  onLinkClosed(link: Link): void {
    this.forgetUnbound(link);
    const pairId = link.pairId;
    if (pairId === undefined || this.links.get(pairId) !== link) return;
    this.links.delete(pairId);
    if (link.handedOff || this.closing || this.redials.retried(link)) return;
    this.config.events.onConnectionLost(pairId);
  }

  /** Answers the peer's check as the agent decided: 487, or success on the connection now bound to the pair. */
  private answer(link: Link, request: StunMessage, result: IncomingCheckResult): void {
    if (result.response === 'role-conflict') {
      link.send(buildCheckError(request, 487, 'Role Conflict', this.localKey));
      return;
    }
    this.authenticated(link);
    this.bind(link, result.pairId);
    // the peer's connection for this pair came in before our dial of it began (our S-O port's listener took it):
    // that dial can never bind the same 4-tuple (EADDRNOTAVAIL); our check goes on this connection instead
    if (this.links.get(result.pairId) === link) this.dialing?.get(result.pairId)?.superseded.abort();
    const mapped = {
      // the kernel's numeric address: a colon means IPv6. Not net.isIPv6: its first two calls compile a large
      // RegExp (10-40 ms of CPU in a fresh process), on the path of the first check's answer
      family: link.remoteAddress.includes(':') ? 6 : 4,
      address: link.remoteAddress,
      port: link.remotePort,
    } as const;
    link.send(buildCheckSuccess(request, mapped, this.localKey, this.config.iceOptions?.inChecks()));
  }

  /** An authenticated message of the peer: the ICE options it states, if any, go to the agent. */
  private notePeerOptions(message: StunMessage): void {
    const options = this.config.iceOptions ? peerIceOptions(message) : undefined;
    if (options) this.config.iceOptions?.fromPeer(options);
  }

  /** The peer proved it knows the credentials: the port stops counting the connection as a stranger's. */
  private authenticated(link: Link): void {
    if (link.authenticated) return;
    link.authenticated = true;
    this.pendingOf(link)?.release(link.connection);
  }

  /** What counts `link`'s connection while it is not authenticated: its port, or its relay's counter. */
  private pendingOf(link: Link): Pick<OutstandingConnections, 'expect' | 'reject' | 'release'> | undefined {
    const endpoint = this.endpoints.get(link.localCandidateId);
    if (endpoint?.kind === 'passive') return endpoint.listener;
    if (endpoint?.kind === 'so') return endpoint.port;
    return this.relayPending?.get(link.localCandidateId);
  }

  /**
   * A stranger failed authentication and got its answer: it loses the connection shortly, and until then it is
   * the first its port evicts, so that under a flood of bad credentials the port's slots go to connections
   * that may still authenticate. Anything more it sends is dropped unread.
   */
  private rejectStranger(link: Link): void {
    link.reject();
    // a connection we dialled is no port's stranger: it keeps its own timer
    if (!this.pendingOf(link)?.reject(link.connection)) link.resetAfterAnswer();
  }

  private bind(link: Link, pairId: string): void {
    if (link.pairId !== undefined) return;
    const current = this.links.get(pairId);
    if (current && !current.closed && current !== link) return; // keep the first connection of a pair
    link.pairId = pairId;
    this.links.set(pairId, link);
    this.forgetUnbound(link);
  }

  private forgetUnbound(link: Link): void {
    if (this.unbound?.delete(link) && this.unbound.size === 0) this.unbound = undefined;
  }

  private adopt(
    connection: FramedConnection,
    localCandidateId: string,
    remoteTcpType: 'active' | 'so',
  ): void {
    if (this.closing) {
      connection.reset();
      return;
    }
    // the port resets it unless it authenticates in time, and evicts it when full of strangers
    const link = new Link(connection, localCandidateId, remoteTcpType, this);
    this.unbound ??= new Set();
    this.unbound.add(link);
    if (log.enabled) log('inbound %s on %s', link.describe(), localCandidateId);
    if (this.remoteAddresses.has(link.remoteAddress)) this.pendingOf(link)?.expect(connection);
    else this.queueStranger(link);
  }

  /**
   * A connection from an address the peer never signalled waits its turn, paused: at most
   * {@link STRANGERS_PER_TURN} are read per event-loop turn, so a flood of strangers' checks delays the
   * peer's (from a signalled address, read at once) by that much at most, and when more arrive than that lets
   * in, the port's cap evicts those still waiting, unread. A peer behind a NAT that maps it to an address it
   * did not signal (peer-reflexive) waits its turn like any stranger.
   */
  private queueStranger(link: Link): void {
    link.connection.pause();
    this.strangers.push(link);
    if (this.strangersTurnScheduled) return;
    this.strangersTurnScheduled = true;
    setImmediate(() => this.strangersTurn());
  }

  private strangersTurn(): void {
    let admitted = 0;
    while (admitted < STRANGERS_PER_TURN) {
      const link = this.strangers.shift();
      if (link === undefined) break;
      if (link.closed) continue;
      link.connection.resume();
      admitted++;
    }
    if (this.strangers.length > 0) setImmediate(() => this.strangersTurn());
    else this.strangersTurnScheduled = false;
  }

  private async open(
    pair: CandidatePair,
    pairSignal: AbortSignal,
    superseded: AbortSignal,
    timeoutMs: number,
  ): Promise<Link | undefined> {
    const endpoint = this.endpoints.get(pair.local.id);
    const signal = AbortSignal.any([this.config.signal, pairSignal, superseded]);
    try {
      let connection: FramedConnection;
      if (endpoint?.kind === 'active' && pair.remote.tcpType === 'passive') {
        connection = await dialPassive(pair, { timeoutMs, signal, maxFrameSize: this.config.maxFrameSize });
      } else if (endpoint?.kind === 'so' && pair.remote.tcpType === 'so') {
        connection = await this.dialSimultaneous(endpoint.port, pair, timeoutMs, signal);
      } else if (endpoint?.kind === 'relay' && pair.local.tcpType === 'active') {
        connection = await endpoint.connect(pair.remote.address, pair.remote.port, timeoutMs);
      } else {
        throw new InvalidArgumentError(`no way to open a connection from a ${pair.local.tcpType} candidate`);
      }
      if (this.closing || pairSignal.aborted) {
        connection.reset();
        return undefined;
      }
      const link = new Link(connection, pair.local.id, pair.remote.tcpType, this);
      this.bind(link, pair.id);
      if (link.pairId !== pair.id) {
        // another connection already carries this pair (the peer reached us first): use that one
        link.reset();
        return this.links.get(pair.id);
      }
      return link;
    } catch (err) {
      if (superseded.aborted && !this.closing && !pairSignal.aborted) {
        log('open %s: the peer reached us first, its connection carries the check', pair.id);
        return this.links.get(pair.id);
      }
      const reason = err instanceof IceTcpError || err instanceof Error ? err.message : String(err);
      log('open %s failed: %s', pair.id, reason);
      if (!this.closing && !pairSignal.aborted) {
        this.config.events.onCheckOutcome(pair.id, { kind: 'failure', reason });
      }
      return undefined;
    }
  }

  private dialSimultaneous(
    port: SimultaneousOpenPort,
    pair: CandidatePair,
    timeoutMs: number,
    signal: AbortSignal,
  ) {
    return port.dial({
      remoteAddress: pair.remote.address,
      remotePort: pair.remote.port,
      timeoutMs,
      signal,
      retryDelayMs: this.config.soRetryDelayMs,
      resynIntervalMs: this.config.soResynIntervalMs,
      // only a NAT's RST needs SYNs that cross (RST ping-pong); a plain host is met by listening between tries
      fastRetries: pair.remote.type === 'host' ? 0 : DEFAULT_FAST_RETRIES,
    });
  }

  private sendCheck(link: Link, pair: CandidatePair, params: CheckParameters, signal: AbortSignal): void {
    const remote = this.config.remote();
    if (!remote) return;
    const { bytes, transactionId } = buildCheckRequest({
      localUfrag: this.config.localUfrag,
      remoteUfrag: remote.ufrag,
      remotePwd: remote.pwd,
      priority: params.priority,
      role: params.role,
      tieBreaker: params.tieBreaker,
      useCandidate: params.useCandidate,
      iceOptions: this.config.iceOptions?.inChecks(),
    });
    const remoteKey = shortTermKey(remote.pwd);
    // coturn may drop a peer's bytes that reach a relay before its ConnectionBind (coturn issues 408, 495)
    const relayed = pair.local.type === 'relay' || pair.remote.type === 'relay';
    const retransmitMs = relayed ? RELAYED_CHECK_RETRANSMIT_MS : undefined;
    log('%s: Binding request on %s%s', pair.id, link.describe(), params.useCandidate ? ' USE-CANDIDATE' : '');
    link.request(bytes, transactionId, { retransmitMs, signal }, (response, reason) => {
      if ((this.closing && pair.id !== this.kept) || signal.aborted) return;
      const events = this.config.events;
      if (!response) {
        // the peer's relay closed us before its owner permitted us: checked again (agent/relay-dial.ts)
        if (this.redials.retry(pair, link, signal, () => this.check(pair, params, signal))) return;
        events.onCheckOutcome(pair.id, { kind: 'failure', reason: reason ?? 'no response' });
        return;
      }
      const answer = interpretCheckResponse(response, remoteKey);
      if (answer.kind === 'success') {
        this.authenticated(link);
        this.notePeerOptions(response);
      }
      events.onCheckOutcome(
        pair.id,
        answer.kind === 'failure' ? { ...answer, answered: true } : { kind: answer.kind },
      );
    });
  }
}
