import net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { ClosedError, type IceTcpError, InvalidArgumentError, TurnError, wrapError } from '../errors.js';
import {
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
} from '../stun/index.js';
import { authenticatedRequest, LongTermCredentials } from './auth.js';
import { ControlChannel } from './control-channel.js';
import { bindDataConnection } from './data-connection.js';
import { refreshDelayMs, startDeadline } from './deadline.js';
import { openServerSocket } from './transport.js';
import type { TurnPeerConnection, TurnServerOptions } from './types.js';

const log = createDebug('ice-tcp:turn:allocation');

/** REQUESTED-TRANSPORT value for TCP (RFC 6062 §5.1: the protocol number). */
const TRANSPORT_TCP = 6;
/** Permission lifetime fixed by RFC 8656 §9 (coturn: `permission-lifetime`). */
const DEFAULT_PERMISSION_LIFETIME = 300;

/** Options of {@link TurnAllocation.allocate}: the server, plus what only this client call decides. */
export interface TurnAllocateOptions extends TurnServerOptions {
  /** Local IP to dial the server from (control and data connections). */
  localAddress?: string;
  /** Budget for the whole allocation, and for each later request (refresh, permission); default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** SOFTWARE attribute sent with the Allocate. */
  software?: string;
}

/** Default cap on relayed inbound connections per allocation: each one costs a TCP connection to the server. */
export const DEFAULT_MAX_INBOUND_CONNECTIONS = 32;

/** Events of a {@link TurnAllocation}. */
export interface TurnAllocationEvents {
  connection: [TurnPeerConnection];
  error: [IceTcpError];
  closed: [];
}

/** Options of {@link TurnAllocation.connect}. */
export interface TurnConnectOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A TCP allocation on a TURN server (RFC 6062): a relayed transport address that peers can connect to and
 * that can connect out to peers, each peer connection arriving as its own TCP connection to the server.
 * Refreshes itself and its permissions while open; asynchronous failures are emitted as 'error'.
 */
export class TurnAllocation extends EventEmitter<TurnAllocationEvents> {
  /** XOR-RELAYED-ADDRESS: the address peers connect to. */
  readonly relayedAddress: TransportAddress;
  /** XOR-MAPPED-ADDRESS: the server-reflexive address of the control connection, when the server sent it. */
  readonly mappedAddress: TransportAddress | undefined;
  /** The TURN server this allocation lives on. */
  readonly server: { host: string; port: number };

  private readonly permissions = new Set<string>();
  private readonly peerSockets = new Set<net.Socket>();
  /** Inbound connections counted against maxInboundConnections: binds in flight plus open sockets. */
  private inbound = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private permissionTimer: NodeJS.Timeout | undefined;
  private expiresAt = 0;
  private granted = 0;
  private closing: Promise<void> | undefined;
  private isClosed = false;
  private lostWith: TurnError | undefined;

  private constructor(
    private readonly channel: ControlChannel,
    private readonly credentials: LongTermCredentials,
    private readonly options: TurnAllocateOptions & { timeoutMs: number },
    response: StunMessage,
  ) {
    super();
    const relayed = response.xorRelayedAddress();
    if (!relayed) throw new TurnError('Allocate success without XOR-RELAYED-ADDRESS');
    this.relayedAddress = relayed;
    this.mappedAddress = response.xorMappedAddress();
    this.server = { host: options.host, port: options.port };
    this.scheduleRefresh(response.lifetime() ?? options.lifetimeSeconds ?? 600);
  }

  /**
   * Connects to the TURN server and allocates a TCP relayed address (REQUESTED-TRANSPORT=6), answering the
   * long-term credential challenge. Rejects with a typed error (ERR_TURN_AUTH for bad credentials,
   * ERR_TURN_CAPACITY for quota, ERR_SOCKET when the server is unreachable) within `timeoutMs`.
   */
  static async allocate(options: TurnAllocateOptions): Promise<TurnAllocation> {
    const cap = options.maxInboundConnections;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 0))
      throw new InvalidArgumentError(`maxInboundConnections must be an integer >= 0, got ${cap}`);
    const timeoutMs = options.timeoutMs ?? 5000;
    const where = `${options.host}:${options.port}`;
    const deadline = startDeadline(
      timeoutMs,
      options.signal,
      () => new TurnError(`TURN allocate on ${where} timed out after ${timeoutMs} ms`),
    );
    const started = Date.now();
    let channel: ControlChannel | undefined;
    try {
      const socket = await openServerSocket(options, options.localAddress, deadline.signal);
      let allocation: TurnAllocation | undefined;
      channel = new ControlChannel(socket, {
        onServerMessage: (m) => allocation?.onServerMessage(m),
        onClose: (err) => allocation?.onControlClosed(err),
      });
      const credentials = new LongTermCredentials(options.username, options.password);
      const ch = channel;
      const response = await authenticatedRequest(
        (bytes, id, signal) => ch.transact(bytes, id, signal),
        credentials,
        () => {
          const b = new StunMessageBuilder(StunMethod.Allocate, StunClass.Request).requestedTransport(
            TRANSPORT_TCP,
          );
          if (options.lifetimeSeconds !== undefined) b.lifetime(options.lifetimeSeconds);
          if (options.software !== undefined) b.software(options.software);
          return b;
        },
        `TURN Allocate on ${where}`,
        deadline.signal,
      );
      allocation = new TurnAllocation(channel, credentials, { ...options, timeoutMs }, response);
      log('allocated %o on %s in %d ms', allocation.relayedAddress, where, Date.now() - started);
      return allocation;
    } catch (err) {
      channel?.close();
      throw wrapError(err, `TURN allocate on ${where}`, 'turn');
    } finally {
      deadline.dispose();
    }
  }

  /** The LIFETIME the server granted at the last Allocate or Refresh, in seconds. */
  get lifetimeSeconds(): number {
    return this.granted;
  }

  /** Whether close() ran or the control connection died. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Why the allocation was lost (`ERR_TURN_ALLOCATION_LOST`), when it ended other than by close(). */
  get lostError(): TurnError | undefined {
    return this.lostWith;
  }

  /**
   * Installs permissions for these peer IPs (RFC 8656 §9; ports are ignored by TURN). Needed before a peer
   * can connect to the relayed address; refreshed automatically while the allocation lives.
   */
  async createPermission(peerAddresses: string[], options: TurnConnectOptions = {}): Promise<void> {
    for (const ip of peerAddresses) {
      if (net.isIP(ip) === 0) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(ip)}`);
    }
    if (peerAddresses.length === 0) return;
    const deadline = startDeadline(
      options.timeoutMs ?? this.options.timeoutMs,
      options.signal,
      () =>
        new TurnError(
          `TURN CreatePermission timed out after ${options.timeoutMs ?? this.options.timeoutMs} ms`,
        ),
    );
    try {
      await this.permit(peerAddresses, deadline.signal);
    } catch (err) {
      throw wrapError(err, 'TURN CreatePermission', 'turn');
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Opens a relayed TCP connection to `peer` (RFC 6062 §4.3): CreatePermission for its IP when missing,
   * Connect → CONNECTION-ID, then a new data connection to the server bound with ConnectionBind.
   * ERR_TURN_CONNECTION when the server could not reach the peer (447) or already has that connection (446).
   */
  async connect(peer: TransportAddress, options: TurnConnectOptions = {}): Promise<TurnPeerConnection> {
    if (this.isClosed || this.closing) throw new ClosedError('TURN allocation is closed');
    const what = `TURN Connect to ${peer.address}:${peer.port}`;
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const deadline = startDeadline(
      timeoutMs,
      options.signal,
      () => new TurnError(`${what} timed out after ${timeoutMs} ms`),
    );
    try {
      if (!this.permissions.has(peer.address)) await this.permit([peer.address], deadline.signal);
      const response = await this.request(
        () => new StunMessageBuilder(StunMethod.Connect, StunClass.Request).xorPeerAddress(peer),
        what,
        deadline.signal,
      );
      const connectionId = response.connectionId();
      if (connectionId === undefined) throw new TurnError(`${what}: success without CONNECTION-ID`);
      const socket = await this.bind(connectionId, deadline.signal);
      return this.adopt(peer, connectionId, socket);
    } catch (err) {
      throw wrapError(err, what, 'turn');
    } finally {
      deadline.dispose();
    }
  }

  /** Deallocates (Refresh with LIFETIME=0), then closes the control connection and every peer connection. */
  close(): Promise<void> {
    this.closing ??= this.deallocateAndClose();
    return this.closing;
  }

  private async deallocateAndClose(): Promise<void> {
    this.clearTimers();
    if (this.channel.open) {
      const timeoutMs = Math.min(this.options.timeoutMs, 2000);
      const deadline = startDeadline(timeoutMs, undefined, () => new TurnError('deallocate timed out'));
      try {
        await this.request(
          () => new StunMessageBuilder(StunMethod.Refresh, StunClass.Request).lifetime(0),
          'TURN Refresh (deallocate)',
          deadline.signal,
        );
      } catch (err) {
        // The server drops the allocation with the control connection anyway; 437 means it is gone already.
        log('deallocate: %s', (err as Error).message);
      } finally {
        deadline.dispose();
      }
    }
    this.teardown();
  }

  /** `lost`: why the allocation went without our close(); its relayed connections end with that error. */
  private teardown(lost?: TurnError): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.lostWith = lost;
    this.clearTimers();
    this.channel.close();
    for (const socket of this.peerSockets) socket.destroy(lost);
    this.peerSockets.clear();
    this.emit('closed');
  }

  private clearTimers(): void {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.permissionTimer);
    this.refreshTimer = undefined;
    this.permissionTimer = undefined;
  }

  private request(make: () => StunMessageBuilder, what: string, signal: AbortSignal): Promise<StunMessage> {
    return authenticatedRequest(
      (bytes, id, s) => this.channel.transact(bytes, id, s),
      this.credentials,
      make,
      what,
      signal,
    );
  }

  /** One CreatePermission for these IPs; remembers them for the periodic refresh. */
  private async permit(ips: string[], signal: AbortSignal): Promise<void> {
    await this.request(
      () => {
        const b = new StunMessageBuilder(StunMethod.CreatePermission, StunClass.Request);
        for (const ip of ips) b.xorPeerAddress({ family: net.isIP(ip) === 6 ? 6 : 4, address: ip, port: 0 });
        return b;
      },
      `TURN CreatePermission for ${ips.join(', ')}`,
      signal,
    );
    if (this.isClosed) return;
    for (const ip of ips) this.permissions.add(ip);
    this.permissionTimer ??= this.armPermissionRefresh();
  }

  private armPermissionRefresh(): NodeJS.Timeout {
    const lifetime = this.options.permissionLifetimeSeconds ?? DEFAULT_PERMISSION_LIFETIME;
    const timer = setTimeout(() => void this.refreshPermissions(), refreshDelayMs(lifetime));
    timer.unref();
    return timer;
  }

  private async refreshPermissions(): Promise<void> {
    this.permissionTimer = undefined;
    if (this.isClosed || this.closing || this.permissions.size === 0) return;
    const deadline = startDeadline(
      this.options.timeoutMs,
      undefined,
      () => new TurnError('permission refresh timed out'),
    );
    try {
      await this.permit([...this.permissions], deadline.signal);
      log('refreshed permissions for %d peer(s)', this.permissions.size);
    } catch (err) {
      if (this.isClosed || this.closing) return;
      this.emit('error', wrapError(err, 'TURN permission refresh', 'turn'));
      // Try again on the next tick of the schedule; the permissions may still be alive until then.
      this.permissionTimer ??= this.armPermissionRefresh();
    } finally {
      deadline.dispose();
    }
  }

  private scheduleRefresh(lifetimeSeconds: number): void {
    this.granted = lifetimeSeconds;
    this.expiresAt = Date.now() + lifetimeSeconds * 1000;
    this.armRefresh(refreshDelayMs(lifetimeSeconds));
  }

  private armRefresh(delayMs: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), delayMs);
    this.refreshTimer.unref();
  }

  private async refresh(): Promise<void> {
    if (this.isClosed || this.closing) return;
    const requested = this.options.lifetimeSeconds;
    const deadline = startDeadline(
      this.options.timeoutMs,
      undefined,
      () => new TurnError('TURN Refresh timed out'),
    );
    try {
      const response = await this.request(
        () => {
          const b = new StunMessageBuilder(StunMethod.Refresh, StunClass.Request);
          if (requested !== undefined) b.lifetime(requested);
          return b;
        },
        'TURN Refresh',
        deadline.signal,
      );
      if (this.isClosed || this.closing) return;
      const granted = response.lifetime() ?? requested ?? 600;
      log(
        'refreshed allocation %s:%d for %d s',
        this.relayedAddress.address,
        this.relayedAddress.port,
        granted,
      );
      this.scheduleRefresh(granted);
    } catch (err) {
      if (this.isClosed || this.closing) return;
      const error = wrapError(err, 'TURN Refresh', 'turn');
      this.emit('error', error);
      const left = this.expiresAt - Date.now();
      // 437 Allocation Mismatch: the server forgot us; past expiry: it will have. Either way it is over.
      if ((error instanceof TurnError && error.stunCode === 437) || left <= 0)
        this.teardown(allocationLost(error));
      else this.armRefresh(Math.max(1000, left / 2));
    } finally {
      deadline.dispose();
    }
  }

  private bind(connectionId: number, signal: AbortSignal): Promise<net.Socket> {
    return bindDataConnection({
      server: this.options,
      localAddress: this.options.localAddress,
      credentials: this.credentials,
      connectionId,
      signal,
    });
  }

  private adopt(peer: TransportAddress, connectionId: number, socket: net.Socket): TurnPeerConnection {
    if (this.isClosed || this.closing) {
      socket.destroy();
      throw new ClosedError('TURN allocation closed during ConnectionBind');
    }
    this.peerSockets.add(socket);
    socket.once('close', () => this.peerSockets.delete(socket));
    return { peer, connectionId, socket };
  }

  private onServerMessage(message: StunMessage): void {
    if (message.method !== StunMethod.ConnectionAttempt) {
      log('ignoring server message method 0x%s', message.method.toString(16));
      return;
    }
    if (message.isRequest()) {
      // RFC 6062 defines ConnectionAttempt as an indication; answer anyway if a server sends it as a request.
      const reply = new StunMessageBuilder(
        StunMethod.ConnectionAttempt,
        StunClass.SuccessResponse,
        message.transactionId,
      );
      this.channel.send(reply.build({ fingerprint: true }));
    }
    const connectionId = message.connectionId();
    const peer = message.xorPeerAddress();
    if (connectionId === undefined || peer === undefined) {
      log('ConnectionAttempt without CONNECTION-ID or XOR-PEER-ADDRESS');
      return;
    }
    if (this.isClosed || this.closing) return;
    const cap = this.options.maxInboundConnections ?? DEFAULT_MAX_INBOUND_CONNECTIONS;
    if (this.inbound >= cap) {
      log(
        'ignoring ConnectionAttempt %d from %s:%d: %d inbound already',
        connectionId,
        peer.address,
        peer.port,
        cap,
      );
      return;
    }
    this.inbound++;
    void this.acceptAttempt(peer, connectionId);
  }

  private async acceptAttempt(peer: TransportAddress, connectionId: number): Promise<void> {
    const what = `TURN ConnectionBind for inbound ${peer.address}:${peer.port}`;
    const deadline = startDeadline(
      this.options.timeoutMs,
      undefined,
      () => new TurnError(`${what} timed out`),
    );
    try {
      const socket = await this.bind(connectionId, deadline.signal);
      const connection = this.adopt(peer, connectionId, socket);
      // the place is held until the relayed connection closes (adopt destroyed it if we closed meanwhile)
      socket.once('close', () => this.inbound--);
      log('inbound relayed connection %d from %s:%d', connectionId, peer.address, peer.port);
      this.emit('connection', connection);
    } catch (err) {
      this.inbound--;
      if (!this.isClosed && !this.closing) this.emit('error', wrapError(err, what, 'turn'));
    } finally {
      deadline.dispose();
    }
  }

  private onControlClosed(error: IceTcpError | undefined): void {
    if (this.isClosed) return;
    if (error && !this.closing) {
      log('control connection lost: %s', error.message);
      this.emit('error', error);
    }
    this.teardown(this.closing ? undefined : allocationLost(error));
  }
}

/** The error a relayed connection ends with when its allocation goes (RFC 6062 §5.1: with the control connection). */
function allocationLost(why: IceTcpError | undefined): TurnError {
  const detail = why?.message ?? 'the TURN server closed the control connection';
  return new TurnError(
    `TURN allocation lost: ${detail}`,
    why instanceof TurnError ? why.stunCode : undefined,
    'ERR_TURN_ALLOCATION_LOST',
    {
      cause: why,
    },
  );
}
