import type net from 'node:net';
import createDebug from 'debug';
import { abortReason, type IceTcpError, SocketError, StunTransactionError } from '../errors.js';
import { StunMessage } from '../stun/index.js';

const log = createDebug('ice-tcp:turn:data');

const HEADER = 20;
/** The largest STUN message (16-bit length): reading stops once this much is held, TCP holds back the rest. */
const MAX_HELD = HEADER + 0xffff;

/**
 * Reads whole STUN messages off the start of a stream that turns into raw bytes afterwards (a TURN data
 * connection, RFC 6062 §4.3: after the ConnectionBind success response the bytes belong to the peer). It
 * pulls one message per {@link next} and nothing more; {@link release} puts every byte it holds back into
 * the socket (`unshift`) and restores the socket's default read mode, so no peer byte is lost or reordered.
 * It holds at most one maximal STUN message plus one read: whatever the server sends, the rest waits in TCP.
 */
export class StunPrefixReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: { resolve(m: StunMessage): void; reject(e: IceTcpError): void } | undefined;
  private failure: IceTcpError | undefined;
  private readonly onReadable = () => this.pull();
  private readonly onEnd = () =>
    this.fail(new SocketError('TURN data connection closed during ConnectionBind'));
  private readonly onError = (err: NodeJS.ErrnoException) =>
    this.fail(new SocketError(`TURN data connection: ${err.message}`, err.code, { cause: err }));

  constructor(private readonly socket: net.Socket) {
    // 'readable' (not 'data') so that removing it later leaves the socket neither flowing nor paused.
    socket.on('readable', this.onReadable);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Bytes read off the socket and not yet handed out (bounded, see the class comment). */
  get bufferedBytes(): number {
    return this.buffered.length;
  }

  /** The next STUN message from the stream. */
  next(signal: AbortSignal): Promise<StunMessage> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise<StunMessage>((resolve, reject) => {
      const onAbort = () => {
        this.waiter = undefined;
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (m) => {
          signal.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.pull();
    });
  }

  /** Stops reading and gives the bytes after the last message back to the socket. */
  release(): void {
    this.socket.off('readable', this.onReadable);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    if (this.buffered.length > 0) {
      log('returning %d peer bytes that came with the ConnectionBind response', this.buffered.length);
      this.socket.unshift(this.buffered);
    }
    this.buffered = Buffer.alloc(0);
  }

  private pull(): void {
    while (this.buffered.length < MAX_HELD) {
      const chunk: Buffer | null = this.socket.read();
      if (chunk === null) break;
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    }
    this.deliver();
  }

  private deliver(): void {
    if (!this.waiter || this.buffered.length < HEADER) return;
    // The two top bits of a STUN message are zero (RFC 8489 §5); anything else is not STUN.
    if ((this.buffered[0] ?? 0) & 0xc0) {
      this.fail(new StunTransactionError('TURN data connection: expected a STUN message'));
      return;
    }
    const total = HEADER + this.buffered.readUInt16BE(2);
    if (this.buffered.length < total) return;
    const frame = this.buffered.subarray(0, total);
    this.buffered = this.buffered.subarray(total);
    const waiter = this.waiter;
    this.waiter = undefined;
    try {
      waiter.resolve(StunMessage.decode(Buffer.from(frame)));
    } catch (err) {
      waiter.reject(
        new StunTransactionError(`TURN data connection: ${(err as Error).message}`, undefined, {
          cause: err,
        }),
      );
    }
  }

  private fail(error: IceTcpError): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
