import type net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import {
  FramedConnection,
  OutstandingConnections,
  type PassiveAcceptor,
  type PassiveListenerEvents,
  type PendingLimits,
} from '../transport/index.js';
import { discardSocket } from '../transport/socket-errors.js';

const log = createDebug('ice-tcp:server:mux');

/** How an agent's registration treats the connections routed to it. */
export interface MuxRegistrationOptions {
  /** The agent's limits on connections not authenticated yet, as on a port of its own. */
  pending?: PendingLimits;
  /** Largest RFC 4571 frame accepted from the peer. */
  maxFrameSize?: number;
}

/**
 * One agent generation's share of a mux port: the connections whose first request named its ufrag, handed over
 * as if accepted on a passive listener of its own (same 'connection' event, same cap, deadline and eviction
 * tiers until a check authenticates them). Closing it releases the ufrag.
 */
export class MuxRegistration extends EventEmitter<PassiveListenerEvents> implements PassiveAcceptor {
  private readonly outstanding: OutstandingConnections;
  private readonly maxFrameSize: number | undefined;
  private closed = false;

  constructor(
    /** The mux's address, advertised as the agent's passive host candidate. */
    readonly address: string,
    /** The mux's port. */
    readonly port: number,
    /** The local ufrag the mux routes by. */
    readonly ufrag: string,
    options: MuxRegistrationOptions,
    private readonly onClose: (registration: MuxRegistration) => void,
  ) {
    super();
    this.outstanding = new OutstandingConnections(
      options.pending?.maxPendingConnections,
      options.pending?.pendingDeadlineMs,
    );
    this.maxFrameSize = options.maxFrameSize;
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Takes a routed socket; `head` is every byte the mux read from it, the first request included. */
  accept(socket: net.Socket, head: Buffer): void {
    if (this.closed || !this.outstanding.accepting) {
      discardSocket(socket);
      return;
    }
    socket.pause();
    // the first request goes back in front of whatever the kernel still holds: the agent reads it like any check
    if (head.length > 0) socket.unshift(head);
    const connection = new FramedConnection(socket, { maxFrameSize: this.maxFrameSize });
    this.outstanding.admit(connection);
    if (log.enabled)
      log('%s: %s:%d handed over', this.ufrag, connection.remoteAddress, connection.remotePort);
    // flowing starts on a later tick, after the owner's 'connection' handler (which may pause it again)
    socket.resume();
    this.emit('connection', connection);
  }

  /** See {@link PassiveAcceptor.release}. */
  release(connection: FramedConnection): void {
    this.outstanding.release(connection);
  }

  /** See {@link PassiveAcceptor.expect}. */
  expect(connection: FramedConnection): void {
    this.outstanding.expect(connection);
  }

  /** See {@link PassiveAcceptor.reject}. */
  reject(connection: FramedConnection): boolean {
    return this.outstanding.reject(connection);
  }

  /** Releases the ufrag; connections already handed over stay with their owner. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}
