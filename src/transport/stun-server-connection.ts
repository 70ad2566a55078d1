import net from 'node:net';
import createDebug from 'debug';
import { AbortedError, SocketError, StunTransactionError } from '../errors.js';
import { StunStreamSplitter } from '../framing/index.js';

const log = createDebug('ice-tcp:transport');

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
  private readonly pending = new Map<string, { resolve: (m: Buffer) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  /** Messages that answer no pending request (indications, late answers). */
  onUnsolicited: (message: Buffer) => void = () => {};

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.abortAll(new SocketError(`STUN server connection: ${err.message}`, errno(err))),
    );
    socket.on('close', () => this.abortAll(new SocketError('STUN server connection closed')));
  }

  /** Connects (binding `localAddress:localPort` first when given). */
  static connect(options: StunServerConnectOptions): Promise<StunServerConnection> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new AbortedError());
        return;
      }
      const socket = net.connect({
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
        localPort: options.localPort,
        autoSelectFamily: false,
      });
      const done = (err?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (err) {
          socket.resetAndDestroy();
          reject(err);
        } else {
          resolve(new StunServerConnection(socket));
        }
      };
      const onError = (err: Error) =>
        done(
          new SocketError(`connect to ${options.host}:${options.port} failed: ${err.message}`, errno(err)),
        );
      const onAbort = () => done(new AbortedError());
      const timer = setTimeout(
        () => done(new SocketError(`connect to ${options.host}:${options.port} timed out`, 'ETIMEDOUT')),
        options.timeoutMs,
      );
      socket.once('error', onError);
      socket.once('connect', () => done());
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
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
    const key = bytes.subarray(8, 20).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(
          new StunTransactionError(
            `no answer from ${this.remote.address}:${this.remote.port} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(key, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(bytes);
    });
  }

  /** Sends a message that expects no answer (an indication). */
  send(bytes: Buffer): void {
    if (!this.failure) this.socket.write(bytes);
  }

  /** Hands the socket over (for TURN ConnectionBind); this object stops reading it. */
  detach(): net.Socket {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.failure = new SocketError('connection handed over');
    return this.socket;
  }

  /** Graceful close. */
  close(): void {
    this.socket.end();
  }

  /** Close with RST: the local port is free again at once (no TIME_WAIT). */
  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
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
      const key = m.subarray(8, 20).toString('hex');
      const waiter = this.pending.get(key);
      if (waiter) {
        this.pending.delete(key);
        waiter.resolve(m);
      } else {
        this.onUnsolicited(m);
      }
    }
  }

  private abortAll(err: Error): void {
    this.failure ??= err;
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }
}

function errno(err: Error): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}
