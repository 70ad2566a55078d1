import type dgram from 'node:dgram';
import type net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { SocketError } from '../errors.js';
import type { TransportAddress } from '../stun/index.js';
import { isWildcard, toTransportAddress } from './addresses.js';
import { answerBinding, type BindingOutcome } from './binding.js';
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
  readonly #options: ResolvedStunServerOptions;
  readonly #bound: Bound[] = [];
  readonly #connections = new Set<net.Socket>();
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedStunServerOptions) {
    super();
    this.#options = options;
  }

  /** Binds every endpoint (TCP and UDP on one port number each) and starts answering. */
  static async start(options: StunServerOptions = {}): Promise<StunServer> {
    const server = new StunServer(resolveStunServerOptions(options));
    try {
      await server.#bind(server.#options.primary);
      const alternate = server.#options.alternate;
      if (alternate) {
        // An alternate on another host "with the primary port" means the port finally bound, not 0.
        const port =
          alternate.port === 0 && alternate.host !== server.#options.primary.host
            ? server.primary.port
            : alternate.port;
        await server.#bind({ host: alternate.host, port });
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
    const bound = this.#bound[0];
    if (!bound) throw new SocketError('the STUN server is not bound');
    return { host: bound.spec.host, port: bound.spec.port };
  }

  /** The RFC 5780 alternate endpoint, when one was asked for. */
  get alternate(): StunServerEndpoint | undefined {
    const bound = this.#bound[1];
    return bound ? { host: bound.spec.host, port: bound.spec.port } : undefined;
  }

  /** TCP connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops listening and resets every connection; resolves when all sockets are closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const socket of this.#connections) socket.resetAndDestroy();
      this.#connections.clear();
      await Promise.all(this.#bound.flatMap((b) => [closeTcp(b.tcp), ...(b.udp ? [closeUdp(b.udp)] : [])]));
    })();
    return this.#closing;
  }

  async #bind(spec: EndpointSpec): Promise<void> {
    const attempts = spec.port === 0 && this.#options.udp ? PORT_ATTEMPTS : 1;
    const index = this.#bound.length;
    for (let attempt = 1; ; attempt++) {
      const tcp = await listenTcp(spec.host, spec.port, (s) => this.#onConnection(s, index), this.#onError);
      const port = (tcp.address() as net.AddressInfo).port;
      if (!this.#options.udp) {
        this.#bound.push({ spec: { host: spec.host, port }, tcp, udp: undefined });
        return;
      }
      try {
        const udp = await bindUdp(spec.host, port, (m, r) => this.#onDatagram(m, r, index), this.#onError);
        this.#bound.push({ spec: { host: spec.host, port }, tcp, udp });
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

  readonly #onError = (error: Error): void => {
    log('socket error: %s', error.message);
    this.emit('error', error);
  };

  /** The server's other endpoint as seen from `local` (a wildcard host stands for the receiving address). */
  #otherOf(index: number, local: TransportAddress | undefined): TransportAddress | undefined {
    const other = this.#bound[1 - index];
    if (!other) return undefined;
    if (!isWildcard(other.spec.host)) return toTransportAddress(other.spec.host, other.spec.port);
    return local ? { ...local, port: other.spec.port } : undefined;
  }

  #answer(
    raw: Buffer,
    index: number,
    source: TransportAddress,
    local: TransportAddress | undefined,
  ): BindingOutcome {
    const rfc5780 = this.#bound.length > 1 || this.#options.alternate !== undefined;
    return answerBinding(raw, {
      source,
      origin: rfc5780 ? local : undefined,
      other: rfc5780 ? this.#otherOf(index, local) : undefined,
      software: this.#options.software,
    });
  }

  #onConnection(socket: net.Socket, index: number): void {
    if (this.#closing) {
      socket.resetAndDestroy();
      return;
    }
    if (this.#connections.size >= this.#options.maxConnections) {
      // RST, not FIN: a flood must not leave the server holding TIME_WAIT for every refused connection.
      log(
        'connection cap %d reached: resetting %s:%d',
        this.#options.maxConnections,
        socket.remoteAddress,
        socket.remotePort,
      );
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    this.#connections.add(socket);
    socket.once('close', () => this.#connections.delete(socket));
    serveTcpConnection(socket, {
      answer: (raw, source, local) => this.#answer(raw, index, source, local),
      idleTimeoutMs: this.#options.idleTimeoutMs,
      onError: this.#onError,
    });
  }

  #onDatagram(message: Buffer, remote: dgram.RemoteInfo, index: number): void {
    const bound = this.#bound[index];
    if (!bound?.udp || this.#closing || message.length > MAX_REQUEST_SIZE) return;
    const udp = bound.udp;
    try {
      const source = toTransportAddress(remote.address, remote.port);
      // Node cannot tell which address a wildcard-bound datagram arrived on: RESPONSE-ORIGIN is then left out.
      const local = isWildcard(bound.spec.host)
        ? undefined
        : toTransportAddress(bound.spec.host, bound.spec.port);
      const outcome = this.#answer(message, index, source, local);
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
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
