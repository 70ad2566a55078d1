import { isIPv6 } from 'node:net';
import createDebug from 'debug';
import type { CandidatePair, Checklist } from '../checklist/index.js';
import { IceTcpError } from '../errors.js';
import type { LocalEndpoint } from '../gather/index.js';
import { type StunMessage, StunMethod, shortTermKey } from '../stun/index.js';
import {
  DEFAULT_FAST_RETRIES,
  dialActive,
  type FramedConnection,
  type SimultaneousOpenPort,
} from '../transport/index.js';
import {
  authenticateCheck,
  buildCheckError,
  buildCheckRequest,
  buildCheckSuccess,
  interpretCheckResponse,
} from './check-messages.js';
import type { IceParameters } from './credentials.js';
import { type DataVerdict, Link, type LinkOwner } from './link.js';
import type { IceRole } from './options.js';

const log = createDebug('ice-tcp:pool');

/** When a check through a relay is sent again while unanswered (ms after the first transmission). */
const RELAYED_CHECK_RETRANSMIT_MS = [100, 300, 700, 1500];

/** What the pool needs from the agent. */
export interface ConnectionPoolConfig {
  localUfrag: string;
  localPwd: string;
  maxFrameSize: number;
  checkTimeoutMs: number;
  soRetryDelayMs: number;
  soResynIntervalMs: number;
  now(): number;
  checklist(): Checklist;
  remote(): IceParameters | undefined;
  /** Called after every event fed to the checklist, so the agent runs it. */
  afterEvent(): void;
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
 * then for data. It turns checks into STUN on the wire and answers the peer's checks; the ICE decisions
 * stay in the {@link Checklist}.
 */
export class ConnectionPool implements LinkOwner {
  private readonly localKey: Buffer;
  private readonly endpoints = new Map<string, LocalEndpoint>();
  private readonly links = new Map<string, Link>();
  private readonly dialing = new Map<string, Promise<Link | undefined>>();
  private readonly unbound = new Set<Link>();
  private readonly watchedPorts = new Set<object>();
  /** Remote candidate IPs, so that relays gathered later permit them too. */
  private readonly remoteAddresses = new Set<string>();
  private closing = false;
  private kept: string | undefined;

  constructor(private readonly config: ConnectionPoolConfig) {
    this.localKey = shortTermKey(config.localPwd);
  }

  /** Takes over a gathered candidate's socket object and accepts its inbound connections. */
  addEndpoint(endpoint: LocalEndpoint): void {
    this.endpoints.set(endpoint.candidate.id, endpoint);
    if (endpoint.kind === 'passive') {
      if (this.watchedPorts.has(endpoint.listener)) return;
      this.watchedPorts.add(endpoint.listener);
      endpoint.listener.on('connection', (c) => this.adopt(c, endpoint.candidate.id, 'active'));
    } else if (endpoint.kind === 'so') {
      if (this.watchedPorts.has(endpoint.port)) return;
      this.watchedPorts.add(endpoint.port);
      endpoint.port.on('connection', (c) => this.adopt(c, endpoint.candidate.id, 'so'));
    } else if (endpoint.kind === 'relay') {
      // peers reaching the relayed address arrive like connections accepted on a passive listener
      endpoint.onInbound((c) => this.adopt(c, endpoint.candidate.id, 'active'));
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

  /** Sends one check on a pair, opening its connection first when needed; the result goes to the checklist. */
  check(pair: CandidatePair, params: CheckParameters): void {
    const existing = this.links.get(pair.id);
    if (existing && !existing.closed) {
      this.sendCheck(existing, pair, params);
      return;
    }
    let pending = this.dialing.get(pair.id);
    if (!pending) {
      pending = this.open(pair);
      this.dialing.set(pair.id, pending);
      void pending.finally(() => this.dialing.delete(pair.id));
    }
    void pending.then((link) => {
      if (link && !link.closed) this.sendCheck(link, pair, params);
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
    for (const link of this.unbound) link.reset();
    this.unbound.clear();
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
      log('%s: check rejected with %d', link.describe(), code);
      link.send(buildCheckError(request, code, auth.ok ? 'Unauthorized' : auth.reason));
      return;
    }
    if (this.closing && link.pairId !== this.kept) return;
    const checklist = this.config.checklist();
    const result = checklist.onIncomingCheck(
      {
        localCandidateId: link.localCandidateId,
        remoteAddress: link.remoteAddress,
        remotePort: link.remotePort,
        remoteTcpType: link.remoteTcpType,
        priority: request.priority() ?? 0,
        useCandidate: request.useCandidate(),
        iceControlling: request.iceControlling(),
        iceControlled: request.iceControlled(),
      },
      this.config.now(),
    );
    if (result.response === 'role-conflict') {
      link.send(buildCheckError(request, 487, 'Role Conflict', this.localKey));
      this.config.afterEvent();
      return;
    }
    link.authenticated = true;
    this.bind(link, result.pairId);
    const mapped = {
      family: isIPv6(link.remoteAddress) ? 6 : 4,
      address: link.remoteAddress,
      port: link.remotePort,
    };
    link.send(
      buildCheckSuccess(request, mapped as { family: 4 | 6; address: string; port: number }, this.localKey),
    );
    this.config.afterEvent();
  }

  onDataBeforeSelection(link: Link): DataVerdict {
    return link.authenticated ? 'hold' : 'reject';
  }

  onLinkClosed(link: Link): void {
    this.unbound.delete(link);
    const pairId = link.pairId;
    if (pairId === undefined || this.links.get(pairId) !== link) return;
    this.links.delete(pairId);
    if (link.handedOff || this.closing) return;
    this.config.checklist().onConnectionLost(pairId, this.config.now());
    this.config.afterEvent();
  }

  private bind(link: Link, pairId: string): void {
    if (link.pairId !== undefined) return;
    const current = this.links.get(pairId);
    if (current && !current.closed && current !== link) return; // keep the first connection of a pair
    link.pairId = pairId;
    this.links.set(pairId, link);
    this.unbound.delete(link);
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
    const link = new Link(connection, localCandidateId, remoteTcpType, this);
    this.unbound.add(link);
    // a connection that never authenticates is dropped: inbound TCP is cheap for an attacker
    setTimeout(() => {
      if (!link.authenticated && !link.closed) link.reset();
    }, this.config.checkTimeoutMs).unref();
    log('inbound %s on %s', link.describe(), localCandidateId);
  }

  private async open(pair: CandidatePair): Promise<Link | undefined> {
    const endpoint = this.endpoints.get(pair.local.id);
    const timeoutMs = this.config.checkTimeoutMs;
    try {
      let connection: FramedConnection;
      if (endpoint?.kind === 'active' && pair.remote.tcpType === 'passive') {
        connection = await dialActive({
          localAddress: pair.local.baseAddress,
          remoteAddress: pair.remote.address,
          remotePort: pair.remote.port,
          timeoutMs,
          maxFrameSize: this.config.maxFrameSize,
        });
      } else if (endpoint?.kind === 'so' && pair.remote.tcpType === 'so') {
        connection = await this.dialSimultaneous(endpoint.port, pair, timeoutMs);
      } else if (endpoint?.kind === 'relay' && pair.local.tcpType === 'active') {
        connection = await endpoint.connect(pair.remote.address, pair.remote.port, timeoutMs);
      } else {
        throw new Error(`no way to open a connection from a ${pair.local.tcpType} candidate`);
      }
      if (this.closing) {
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
      const reason = err instanceof IceTcpError || err instanceof Error ? err.message : String(err);
      log('open %s failed: %s', pair.id, reason);
      if (!this.closing) {
        this.config.checklist().onCheckFailure(pair.id, this.config.now(), reason);
        this.config.afterEvent();
      }
      return undefined;
    }
  }

  private dialSimultaneous(port: SimultaneousOpenPort, pair: CandidatePair, timeoutMs: number) {
    return port.dial({
      remoteAddress: pair.remote.address,
      remotePort: pair.remote.port,
      timeoutMs,
      retryDelayMs: this.config.soRetryDelayMs,
      resynIntervalMs: this.config.soResynIntervalMs,
      // only a NAT's RST needs SYNs that cross (RST ping-pong); a plain host is met by listening between tries
      fastRetries: pair.remote.type === 'host' ? 0 : DEFAULT_FAST_RETRIES,
    });
  }

  private sendCheck(link: Link, pair: CandidatePair, params: CheckParameters): void {
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
    });
    const remoteKey = shortTermKey(remote.pwd);
    // coturn may drop a peer's bytes that reach a relay before its ConnectionBind (coturn issues 408, 495)
    const relayed = pair.local.type === 'relay' || pair.remote.type === 'relay';
    const retransmitMs = relayed ? RELAYED_CHECK_RETRANSMIT_MS : undefined;
    link.request(bytes, transactionId, this.config.checkTimeoutMs, retransmitMs, (response, reason) => {
      if (this.closing && pair.id !== this.kept) return;
      const checklist = this.config.checklist();
      const now = this.config.now();
      if (!response) {
        checklist.onCheckFailure(pair.id, now, reason ?? 'no response');
      } else {
        const answer = interpretCheckResponse(response, remoteKey);
        if (answer.kind === 'success') {
          link.authenticated = true;
          checklist.onCheckSuccess(pair.id, now);
        } else if (answer.kind === 'role-conflict') {
          checklist.onRoleConflict(pair.id, now);
        } else {
          checklist.onCheckFailure(pair.id, now, answer.reason);
        }
      }
      this.config.afterEvent();
    });
  }
}
