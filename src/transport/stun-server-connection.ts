import type net from 'node:net';
import createDebug from 'debug';
import { type IceTcpError, SocketError, StunTransactionError, syscallCodeOf } from '../errors.js';
import { StunStreamSplitter } from '../framing/index.js';
import { StunTransactions } from '../stun/transactions.js';
import { openSocket } from './open-socket.js';
import { openWithRedials } from './redial.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:stun');

/** Where to connect and from which local port. */
export interface StunServerConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** The local port to dial from (an S-O candidate's port: the mapping is learned for that very port). */
  localPort?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A TCP connection to a STUN (or TURN) server carrying unframed STUN (RFC 8489 §6.2.2), with request/response
 * matching by transaction id. It deals in raw message bytes; decoding is the caller's business.
 */
export class StunServerConnection {
  private readonly splitter = new StunStreamSplitter({ maxMessageSize: 8192 });
  private readonly transactions: StunTransactions<Buffer>;
  private failure: IceTcpError | undefined;
  /** Messages that answer no pending request (indications, late answers). */
  onUnsolicited: (message: Buffer) => void = () => {};

  private readonly onSocketData = (chunk: Buffer) => this.onData(chunk);
  private readonly onSocketError = (err: Error) =>
    this.abortAll(new SocketError(`STUN server connection: ${err.message}`, syscallCodeOf(err)));
  private readonly onSocketClose = () => this.abortAll(new SocketError('STUN server connection closed'));

  private constructor(private readonly socket: net.Socket) {
    this.transactions = new StunTransactions((bytes) => {
      socket.write(bytes);
      return true;
    });
    socket.on('data', this.onSocketData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  /**
   * Connects (binding `localAddress:localPort` first when given). From a given local port an unanswered SYN
   * is replaced on a schedule within `timeoutMs` (transport/redial.ts): the same 5-tuple, so the same mapping.
   */
  static async connect(options: StunServerConnectOptions): Promise<StunServerConnection> {
    const open = {
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      localPort: options.localPort,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      label: `connect to ${options.host}:${options.port}`,
    };
    // from an ephemeral port every fresh socket would be a new flow through the NAT: the kernel's retries only
    const socket = await (options.localPort === undefined ? openSocket(open) : openWithRedials(open));
    return new StunServerConnection(socket);
  }

  /** Local address and port of the connection (the base of a server-reflexive candidate). */
  get local(): { address: string; port: number } {
    return { address: this.socket.localAddress ?? '', port: this.socket.localPort ?? 0 };
  }

  /** The server's address and port as connected. */
  get remote(): { address: string; port: number } {
    return { address: this.socket.remoteAddress ?? '', port: this.socket.remotePort ?? 0 };
  }

  /** The underlying socket, for layers that take the connection over after STUN (TURN data connections). */
  get rawSocket(): net.Socket {
    return this.socket;
  }

  /** Sends a request and resolves with the bytes of the message carrying the same transaction id. */
  request(bytes: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const { address, port } = this.remote;
    return this.transactions.request(bytes, transactionIdOf(bytes), {
      timeoutMs,
      timeoutError: () => new StunTransactionError(`no answer from ${address}:${port} in ${timeoutMs} ms`),
    });
  }

  /** Sends a message that expects no answer (an indication). */
  send(bytes: Buffer): void {
    if (!this.failure) this.socket.write(bytes);
  }

  /** Hands the socket over (for TURN ConnectionBind); this object stops reading it. */
  detach(): net.Socket {
    // only our own listeners: the opener's 'error' guard stays until the socket is destroyed
    this.socket.off('data', this.onSocketData);
    this.socket.off('close', this.onSocketClose);
    this.socket.off('error', this.onSocketError);
    this.failure = new SocketError('connection handed over');
    return this.socket;
  }

  /** Graceful close. */
  close(): void {
    this.socket.end();
  }

  /** Close with RST: the local port is free again at once (no TIME_WAIT). */
  reset(): void {
    discardSocket(this.socket);
  }

  private onData(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.splitter.push(chunk);
    } catch (err) {
      log('garbage from STUN server %s: %s', this.remote.address, (err as Error).message);
      this.abortAll(new StunTransactionError(`garbage from STUN server: ${(err as Error).message}`));
      this.reset();
      return;
    }
    for (const m of messages) {
      if (!this.transactions.resolve(transactionIdOf(m), m)) this.onUnsolicited(m);
    }
  }

  private abortAll(err: IceTcpError): void {
    this.failure ??= err;
    this.transactions.failAll(err);
  }
}

/** Bytes 8..20 of a STUN header (RFC 8489 §5); the splitter guarantees a whole header. */
function transactionIdOf(message: Buffer): Buffer {
  return message.subarray(8, 20);
}
