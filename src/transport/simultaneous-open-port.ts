import net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { ClosedError, type IceTcpError, InvalidArgumentError } from '../errors.js';
import { assertMaxFrameSize, FramedConnection } from './framed-connection.js';
import {
  acceptedLocalEnd,
  assertIpAddress,
  assertPort,
  listenOnChoice,
  type PortChoice,
} from './listen-port.js';
import {
  OutstandingConnections,
  type PendingLimits,
  pendingLimitsProblem,
} from './outstanding-connections.js';
import { PortListenerGate } from './port-listener-gate.js';
import { ResynBudget } from './resyn-budget.js';
import { type BindGate, SoDial, type SoDialOptions } from './so-dial.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:so');

/** Options of {@link SimultaneousOpenPort.open}. */
export interface SimultaneousOpenPortOptions extends PortChoice, PendingLimits {
  /**
   * Also accept inbound connections on the port while dials are pending (RFC 6544 §7.2). Without a NAT in
   * between, this is what makes two S-O candidates meet. Default true.
   */
  acceptInbound?: boolean;
  /** Largest frame accepted from a peer (see FramedConnection). */
  maxFrameSize?: number;
  /**
   * Re-SYN budget shared with the agent's other S-O ports, so that a peer's candidates cannot turn the agent
   * into a SYN flooder. Default: one of the port's own with {@link ResynBudget}'s defaults.
   */
  resynBudget?: ResynBudget;
}

/** Events of a {@link SimultaneousOpenPort}. */
export type SimultaneousOpenPortEvents = { connection: [FramedConnection]; error: [IceTcpError] };

/**
 * A simultaneous-open candidate's local port: dials from that port (and can accept on it).
 *
 * The port is chosen by listening briefly and closing at once, so it holds no listener between dials: an
 * outgoing bind on a port with a LISTEN socket fails on Linux. Nothing holds the port between open() and
 * the first dial; another program could take it, and that dial then fails with EADDRINUSE.
 */
export class SimultaneousOpenPort extends EventEmitter<SimultaneousOpenPortEvents> {
  /** The local address dialled from. */
  readonly address: string;
  /** The local port every dial binds. */
  readonly port: number;

  private readonly acceptInbound: boolean;
  private readonly maxFrameSize: number | undefined;
  private readonly gate: PortListenerGate;
  private readonly dials = new Set<SoDial>();
  private readonly outstanding: OutstandingConnections;
  private readonly budget: ResynBudget;
  private closed = false;

  private constructor(address: string, port: number, options: SimultaneousOpenPortOptions) {
    super();
    this.address = address;
    this.port = port;
    this.acceptInbound = options.acceptInbound ?? true;
    this.maxFrameSize = options.maxFrameSize;
    this.budget = options.resynBudget ?? new ResynBudget();
    this.outstanding = new OutstandingConnections(options.maxPendingConnections, options.pendingDeadlineMs);
    this.gate = new PortListenerGate(address, port, (socket) => this.onInbound(socket));
  }

  /** Picks a free port (fixed, from `portRange`, or any) without leaving a listener on it. */
  static async open(options: SimultaneousOpenPortOptions): Promise<SimultaneousOpenPort> {
    const problem = pendingLimitsProblem(options);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    if (options.maxFrameSize !== undefined) assertMaxFrameSize(options.maxFrameSize);
    const probe = net.createServer();
    const port = await listenOnChoice(probe, options);
    // libuv closes the fd inside close(): the port is free for the first dial's bind right away.
    probe.close();
    log('S-O port %s:%d', options.address, port);
    return new SimultaneousOpenPort(options.address, port, options);
  }

  /** Whether a listener is up on the port right now (only while dials are pending, with acceptInbound). */
  get listening(): boolean {
    return this.gate.listening;
  }

  /** Connections emitted as 'connection' and neither released nor closed yet. */
  get pendingConnections(): number {
    return this.outstanding.size;
  }

  /**
   * Connects from this port to the remote: re-SYNs every `resynIntervalMs` (if > 0) while unanswered, retries
   * `retryDelayMs` after a refusal, and with acceptInbound takes the remote's own connection if its SYN
   * reaches our listener first. SocketError ('ETIMEDOUT', 'ECONNREFUSED', ...) after `timeoutMs`.
   */
  async dial(options: SoDialOptions): Promise<FramedConnection> {
    if (this.closed) throw new ClosedError('simultaneous-open port is closed');
    assertIpAddress(options.remoteAddress, 'remoteAddress');
    assertPort(options.remotePort, 'remotePort', false);
    if (!(options.timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs must be > 0');
    for (const name of ['retryDelayMs', 'resynIntervalMs'] as const) {
      const value = options[name];
      if (value !== undefined && !(value >= 0)) throw new InvalidArgumentError(`${name} must be >= 0`);
    }
    const gate = this.acceptInbound ? this.wantListenerAfterBind() : this.gate;
    const dial = new SoDial(
      {
        address: this.address,
        port: this.port,
        gate,
        maxFrameSize: this.maxFrameSize,
        budget: this.budget,
      },
      options,
    );
    this.dials.add(dial);
    try {
      return await dial.run();
    } finally {
      this.dials.delete(dial);
      // a peer's handshake the kernel completed just now is accepted (emitted or refused below), not reset
      if (this.dials.size === 0) this.gate.release();
    }
  }

  /** Stops counting `connection` against maxPendingConnections (it passed a check; the agent owns it). */
  release(connection: FramedConnection): void {
    this.outstanding.release(connection);
  }

  /** `connection` comes from an address the peer signalled: at the cap it is evicted after every stranger. */
  expect(connection: FramedConnection): void {
    this.outstanding.expect(connection);
  }

  /** As the passive listener's reject(): `connection` failed authentication, it goes first and soon. */
  reject(connection: FramedConnection): boolean {
    return this.outstanding.reject(connection);
  }

  /** Fails pending dials with ClosedError and stops accepting; connections handed out stay open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const dial of this.dials) dial.cancel(new ClosedError('simultaneous-open port closed'));
    this.gate.setWanted(false);
  }

  // Listening is allowed only once an outgoing socket holds the port, so the listener is wanted from the
  // first completed bind on, and the gate then keeps it out of the way of every later bind.
  private wantListenerAfterBind(): BindGate {
    const gate = this.gate;
    return {
      beforeBind: () => gate.beforeBind(),
      afterBind: () => {
        if (!this.closed && this.dials.size > 0) gate.setWanted(true);
        gate.afterBind();
      },
    };
  }

  private onInbound(socket: net.Socket): void {
    for (const dial of this.dials) {
      if (dial.matches(socket.remoteAddress, socket.remotePort)) {
        dial.takeInbound(socket);
        return;
      }
    }
    if (this.closed || !this.outstanding.accepting) {
      log('S-O %s:%d: refusing %s:%d', this.address, this.port, socket.remoteAddress, socket.remotePort);
      discardSocket(socket);
      return;
    }
    const connection = new FramedConnection(socket, {
      maxFrameSize: this.maxFrameSize,
      local: acceptedLocalEnd(this.address, this.port),
    });
    this.outstanding.admit(connection);
    this.emit('connection', connection);
  }
}
