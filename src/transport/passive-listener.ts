import net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { type IceTcpError, InvalidArgumentError, wrapError } from '../errors.js';
import { assertMaxFrameSize, FramedConnection } from './framed-connection.js';
import { acceptedLocalEnd, listenOnChoice, type PortChoice } from './listen-port.js';
import {
  OutstandingConnections,
  type PendingLimits,
  pendingLimitsProblem,
} from './outstanding-connections.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:passive');

/** Options of {@link PassiveListener.listen}. */
export interface PassiveListenerOptions extends PortChoice, PendingLimits {
  /** Largest frame accepted from a peer (see FramedConnection). */
  maxFrameSize?: number;
}

/** Events of a {@link PassiveListener}. */
export type PassiveListenerEvents = { connection: [FramedConnection]; error: [IceTcpError] };

/**
 * What serves a passive candidate: its own {@link PassiveListener}, or an agent's registration on a shared mux
 * port. Either emits inbound framed connections and counts them until they authenticate.
 */
export interface PassiveAcceptor extends EventEmitter<PassiveListenerEvents> {
  readonly address: string;
  readonly port: number;
  /** Stops counting `connection` against the cap (it passed a check; the agent owns it). */
  release(connection: FramedConnection): void;
  /** `connection` comes from an address the peer signalled: at the cap it is evicted after every stranger. */
  expect(connection: FramedConnection): void;
  /** `connection` failed authentication and was answered; false when this acceptor does not count it. */
  reject(connection: FramedConnection): boolean;
  /** Stops accepting; connections already handed out stay open. */
  close(): void;
}

/** A passive candidate's listener: accepts inbound TCP, emits framed connections. */
export class PassiveListener extends EventEmitter<PassiveListenerEvents> implements PassiveAcceptor {
  /** The address listened on. */
  readonly address: string;
  /** The port listened on. */
  readonly port: number;

  private readonly server: net.Server;
  private readonly outstanding: OutstandingConnections;
  private readonly maxFrameSize: number | undefined;
  /** Every accepted connection's local end, unless the listener is on a wildcard address. */
  private readonly local: { address: string; port: number } | undefined;
  private closed = false;

  private constructor(server: net.Server, address: string, port: number, options: PassiveListenerOptions) {
    super();
    this.server = server;
    this.address = address;
    this.port = port;
    this.outstanding = new OutstandingConnections(options.maxPendingConnections, options.pendingDeadlineMs);
    this.maxFrameSize = options.maxFrameSize;
    this.local = acceptedLocalEnd(address, port);
    server.on('connection', (socket) => this.onConnection(socket));
    server.on('error', (error) => this.emit('error', wrapError(error, `listener ${address}:${port}`)));
  }

  /** Listens on `address` (a fixed port, a free port of `portRange`, or any port); SocketError when it cannot. */
  static async listen(options: PassiveListenerOptions): Promise<PassiveListener> {
    const problem = pendingLimitsProblem(options);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    if (options.maxFrameSize !== undefined) assertMaxFrameSize(options.maxFrameSize);
    const server = net.createServer({ noDelay: true });
    const port = await listenOnChoice(server, options);
    log('passive listener on %s:%d', options.address, port);
    return new PassiveListener(server, options.address, port, options);
  }

  /** Connections handed out and neither released nor closed yet. */
  get pendingConnections(): number {
    return this.outstanding.size;
  }

  /** Stops counting `connection` against maxPendingConnections (it passed a check; the agent owns it). */
  release(connection: FramedConnection): void {
    this.outstanding.release(connection);
  }

  /** `connection` comes from an address the peer signalled: at the cap it is evicted after every stranger. */
  expect(connection: FramedConnection): void {
    this.outstanding.expect(connection);
  }

  /**
   * `connection` failed authentication and was answered: it is reset shortly, and a newcomer at the cap evicts
   * it before any connection that may still authenticate. False when this listener does not count it.
   */
  reject(connection: FramedConnection): boolean {
    return this.outstanding.reject(connection);
  }

  /** Stops accepting; connections already handed out stay open (their owner closes them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
  }

  private onConnection(socket: net.Socket): void {
    if (this.closed || !this.outstanding.accepting) {
      log(
        '%s:%d: refusing %s:%d (%s)',
        this.address,
        this.port,
        socket.remoteAddress,
        socket.remotePort,
        this.closed ? 'closed' : 'inbound refused by a cap of 0',
      );
      discardSocket(socket);
      return;
    }
    const connection = new FramedConnection(socket, { maxFrameSize: this.maxFrameSize, local: this.local });
    this.outstanding.admit(connection);
    this.emit('connection', connection);
  }
}
