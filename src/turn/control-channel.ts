import type net from 'node:net';
import createDebug from 'debug';
import { ClosedError, type IceTcpError, SocketError, StunTransactionError } from '../errors.js';
import { StunStreamSplitter } from '../framing/index.js';
import { StunMessage } from '../stun/index.js';
import { StunTransactions } from '../stun/transactions.js';

const log = createDebug('ice-tcp:turn:control');

/** What the control channel tells its owner besides transaction answers. */
export interface ControlChannelHandlers {
  /** An indication or request from the server (ConnectionAttempt, RFC 6062 §4.4). */
  onServerMessage(message: StunMessage): void;
  /** The connection is gone; `error` is undefined when we closed it ourselves. */
  onClose(error: IceTcpError | undefined): void;
}

/**
 * STUN transactions over the TURN control connection (RFC 8489 §6.2.2: TCP, so no retransmissions; the
 * caller's signal bounds each one). Answers are matched by transaction id; stray answers are dropped.
 */
export class ControlChannel {
  private readonly splitter = new StunStreamSplitter({ maxMessageSize: 65_536 });
  private readonly transactions: StunTransactions<StunMessage>;
  private failure: IceTcpError | undefined;
  private closedByUs = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly handlers: ControlChannelHandlers,
  ) {
    this.transactions = new StunTransactions((bytes) => {
      socket.write(bytes);
      return true;
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new SocketError(`TURN control connection: ${err.message}`, err.code, { cause: err })),
    );
    socket.on('close', () => this.fail(new SocketError('TURN control connection closed by the server')));
  }

  /** Local end of the control connection. */
  get local(): { address: string; port: number } {
    return { address: this.socket.localAddress ?? '', port: this.socket.localPort ?? 0 };
  }

  /** Whether the connection still works. */
  get open(): boolean {
    return this.failure === undefined;
  }

  /** Sends a request and resolves with the answer carrying the same transaction id. */
  transact(bytes: Buffer, transactionId: Buffer, signal: AbortSignal): Promise<StunMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return this.transactions.request(bytes, transactionId, { signal });
  }

  /** Sends a message that expects no answer (a response to a server request, an indication). */
  send(bytes: Buffer): void {
    if (!this.failure) this.socket.write(bytes);
  }

  /** Closes the connection; pending transactions fail with {@link ClosedError}. */
  close(): void {
    this.closedByUs = true;
    this.fail(new ClosedError('TURN control connection closed'));
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      // Framing is lost for good on a stream: nothing after this can be trusted.
      this.fail(
        new StunTransactionError(`TURN server sent garbage: ${(err as Error).message}`, undefined, {
          cause: err,
        }),
      );
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      let message: StunMessage;
      try {
        message = StunMessage.decode(frame);
      } catch (err) {
        log('dropping undecodable message from TURN server: %s', (err as Error).message);
        continue;
      }
      if (message.isSuccess() || message.isError()) {
        if (!this.transactions.resolve(message.transactionId, message)) {
          log('dropping stray response %s', message.transactionId.toString('hex'));
        }
      } else {
        this.handlers.onServerMessage(message);
      }
    }
  }

  private fail(error: IceTcpError): void {
    if (this.failure) return;
    this.failure = error;
    this.transactions.failAll(error);
    this.handlers.onClose(this.closedByUs ? undefined : error);
  }
}
