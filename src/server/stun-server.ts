import type dgram from 'node:dgram';
import type net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { SocketError } from '../errors.js';
import type { TransportAddress } from '../stun/index.js';
import { discardSocket } from '../transport/socket-errors.js';
import { isWildcard, toTransportAddress } from './addresses.js';
import { answerBinding, type BindingOutcome } from './binding.js';
import { ConnectionTable, type EvictionReason } from './connection-table.js';
import { bindUdp, closeTcp, closeUdp, listenTcp } from './listen.js';
import {
  type EndpointSpec,
  type ResolvedStunServerOptions,
  resolveStunServerOptions,
  type StunServerOptions,
} from './options.js';
import { MAX_REQUEST_SIZE, serveTcpConnection } from './tcp-connection.js';

const log = createDebug('ice-tcp:server');

/** Attempts at finding a port number free for both TCP and UDP when asked for "any port". */
const PORT_ATTEMPTS = 20;

/** Deadlines are checked this many times per shortest deadline (bounded below and above). */
const SWEEPS_PER_DEADLINE = 8;

/** Events of a {@link StunServer}: failures of its listening sockets, reported instead of thrown. */
export interface StunServerEvents {
  error: [Error];
}

/** An address and port the server listens on (TCP, and UDP unless disabled). */
export interface StunServerEndpoint {
  readonly host: string;
  readonly port: number;
}

/** One bound endpoint: its listener, its UDP socket, and which of the two it is. */
interface Bound {
  spec: EndpointSpec;
  tcp: net.Server;
  udp: dgram.Socket | undefined;
}

/**
 * A STUN Binding server (RFC 8489) over TCP and UDP for rendezvous and tests. With an alternate endpoint it
 * also listens there and adds RFC 5780 RESPONSE-ORIGIN and OTHER-ADDRESS to every response. Misbehaving
 * clients lose only their own connection; socket failures are emitted as 'error', never thrown.
 */
export class StunServer extends EventEmitter<StunServerEvents> {
  private readonly options: ResolvedStunServerOptions;
  private readonly bound: Bound[] = [];
  private readonly connections: ConnectionTable;
  /** One timer for every connection's deadline: nothing per connection outlives it. */
  private readonly sweeper: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  private constructor(options: ResolvedStunServerOptions) {
    super();
    this.options = options;
    this.connections = new ConnectionTable(options, (socket, reason) => this.evict(socket, reason));
    const shortest = Math.min(options.requestTimeoutMs, options.idleTimeoutMs);
    const period = Math.min(1000, Math.max(5, Math.floor(shortest / SWEEPS_PER_DEADLINE)));
    this.sweeper = setInterval(() => this.connections.sweep(performance.now()), period);
    // The listeners keep a CLI alive; a forgotten server must not keep a test process alive by its timer.
    this.sweeper.unref();
  }

  /** Binds every endpoint (TCP and UDP on one port number each) and starts answering. */
  static async start(options: StunServerOptions = {}): Promise<StunServer> {
    const server = new StunServer(resolveStunServerOptions(options));
    try {
      await server.bind(server.options.primary);
      const alternate = server.options.alternate;
      if (alternate) {
        // An alternate on another host "with the primary port" means the port finally bound, not 0.
        const port =
          alternate.port === 0 && alternate.host !== server.options.primary.host
            ? server.primary.port
            : alternate.port;
        await server.bind({ host: alternate.host, port });
      }
    } catch (error) {
      await server.close();
      throw error;
    }
    log(
      'listening on %o%s',
      server.primary,
      server.alternate ? ` and ${server.alternate.host}:${server.alternate.port}` : '',
    );
    return server;
  }

  /** The primary endpoint, with the port actually bound. */
  get primary(): StunServerEndpoint {
    const bound = this.bound[0];
    if (!bound) throw new SocketError('the STUN server is not bound');
    return { host: bound.spec.host, port: bound.spec.port };
  }

  /** The RFC 5780 alternate endpoint, when one was asked for. */
  get alternate(): StunServerEndpoint | undefined {
    const bound = this.bound[1];
    return bound ? { host: bound.spec.host, port: bound.spec.port } : undefined;
  }

  /** TCP connections held now (a connection reset by the policy no longer counts, even before it closes). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes of responses queued in this process for clients that have not read them yet (bounded per connection). */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const socket of this.connections.sockets()) bytes += socket.writableLength;
    return bytes;
  }

  /** Stops listening and resets every connection; resolves when all sockets are closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      for (const socket of this.connections.clear()) discardSocket(socket);
      await Promise.all(this.bound.flatMap((b) => [closeTcp(b.tcp), ...(b.udp ? [closeUdp(b.udp)] : [])]));
    })();
    return this.closing;
  }

  private async bind(spec: EndpointSpec): Promise<void> {
    const attempts = spec.port === 0 && this.options.udp ? PORT_ATTEMPTS : 1;
    const index = this.bound.length;
    for (let attempt = 1; ; attempt++) {
      const tcp = await listenTcp(spec.host, spec.port, (s) => this.onConnection(s, index), this.onError);
      const port = (tcp.address() as net.AddressInfo).port;
      if (!this.options.udp) {
        this.bound.push({ spec: { host: spec.host, port }, tcp, udp: undefined });
        return;
      }
      try {
        const udp = await bindUdp(spec.host, port, (m, r) => this.onDatagram(m, r, index), this.onError);
        this.bound.push({ spec: { host: spec.host, port }, tcp, udp });
        return;
      } catch (error) {
        await closeTcp(tcp);
        // With "any port", the number TCP got may be taken for UDP: try another one.
        if (attempt >= attempts || !(error instanceof SocketError) || error.syscallCode !== 'EADDRINUSE')
          throw error;
        log('UDP port %d taken, trying another', port);
      }
    }
  }

  private readonly onError = (error: Error): void => {
    log('socket error: %s', error.message);
    this.emit('error', error);
  };

  /** The server's other endpoint as seen from `local` (a wildcard host stands for the receiving address). */
  private otherOf(index: number, local: TransportAddress | undefined): TransportAddress | undefined {
    const other = this.bound[1 - index];
    if (!other) return undefined;
    if (!isWildcard(other.spec.host)) return toTransportAddress(other.spec.host, other.spec.port);
    return local ? { ...local, port: other.spec.port } : undefined;
  }

  private answer(
    raw: Buffer,
    index: number,
    source: TransportAddress,
    local: TransportAddress | undefined,
    maxResponseSize?: number,
  ): BindingOutcome {
    const rfc5780 = this.bound.length > 1 || this.options.alternate !== undefined;
    return answerBinding(raw, {
      source,
      origin: rfc5780 ? local : undefined,
      other: rfc5780 ? this.otherOf(index, local) : undefined,
      software: this.options.software,
      maxResponseSize,
    });
  }

  private onConnection(socket: net.Socket, index: number): void {
    // From accept to destroy: an unhandled 'error' would take the process down.
    socket.on('error', (error: NodeJS.ErrnoException) => log('connection: %s', error.code ?? error.message));
    const address = socket.remoteAddress;
    if (this.closing || address === undefined) {
      // undefined: the client reset before we saw it
      discardSocket(socket);
      return;
    }
    this.connections.admit(socket, address, performance.now());
    socket.once('close', () => this.connections.remove(socket));
    serveTcpConnection(socket, {
      answer: (raw, source, local) => this.answer(raw, index, source, local),
      onRequest: () => this.connections.progressed(socket, performance.now()),
      onError: this.onError,
    });
  }

  private evict(socket: net.Socket, reason: EvictionReason): void {
    log('reset %s:%d (%s)', socket.remoteAddress, socket.remotePort, reason);
    // RST, not FIN: a flood must not leave the server holding TIME_WAIT for every connection it drops.
    discardSocket(socket);
  }

  private onDatagram(message: Buffer, remote: dgram.RemoteInfo, index: number): void {
    const bound = this.bound[index];
    if (!bound?.udp || this.closing || message.length > MAX_REQUEST_SIZE) return;
    const udp = bound.udp;
    try {
      const source = toTransportAddress(remote.address, remote.port);
      // Node cannot tell which address a wildcard-bound datagram arrived on: RESPONSE-ORIGIN is then left out.
      const local = isWildcard(bound.spec.host)
        ? undefined
        : toTransportAddress(bound.spec.host, bound.spec.port);
      const limit = Math.floor(message.length * this.options.udpAmplificationLimit);
      const outcome = this.answer(message, index, source, local, limit);
      if (outcome.kind !== 'reply') {
        log(
          'udp %s:%d: %s',
          remote.address,
          remote.port,
          outcome.kind === 'junk' ? outcome.error.message : outcome.why,
        );
        return;
      }
      udp.send(outcome.response, remote.port, remote.address, (error) => {
        if (error) log('udp send to %s:%d: %s', remote.address, remote.port, error.message);
      });
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
