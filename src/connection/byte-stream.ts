import { Duplex } from 'node:stream';
import { ClosedError, IceTcpError } from '../errors.js';
import type { FramedConnection } from '../transport/index.js';

type WriteCallback = (error?: Error | null) => void;

/**
 * A Duplex of bytes over RFC 4571 frames, with backpressure both ways and net.Socket's half-open rules: the
 * readable side ends with the peer's FIN, the writable side's end() sends ours after everything written before
 * it, and the connection closes once both ended. A connection that dies otherwise (reset, error, a close before
 * both ended) destroys the stream: a pending write callback gets the error, then 'error' and 'close' follow;
 * a reset() of our own is a destroy without an error.
 */
export class FramedByteStream extends Duplex {
  private waitingDrain: WriteCallback | undefined;
  private peerEnded = false;
  private finalCalled = false;
  private lingerOnFinal = false;
  private connectionError: IceTcpError | undefined;
  private abandoned = false;

  constructor(private readonly framed: FramedConnection) {
    super({ allowHalfOpen: true });
    framed.on('drain', () => {
      const resume = this.waitingDrain;
      this.waitingDrain = undefined;
      resume?.();
    });
  }

  /** Bytes from the peer; pauses the connection while the reader is behind. */
  deliver(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.destroyed) {
      // as the kernel answers data for a closed socket: nobody will read it, so the peer learns with a reset
      // (not after an abandon: the peer's stream ends at its own switch)
      if (!this.abandoned) this.framed.reset();
      return;
    }
    if (!this.push(piece)) this.framed.pause();
  }

  /** The peer ended its direction: the readable side ends once the reader took everything before it. */
  deliverEnd(): void {
    if (this.peerEnded || this.destroyed) return;
    this.peerEnded = true;
    this.push(null);
  }

  /** The connection reported an error (it closes next): fail the stream with it. */
  fail(error: IceTcpError): void {
    this.connectionError ??= error;
    if (!this.destroyed) this.destroy(error);
  }

  /**
   * The connection closed. Both directions ended cleanly: nothing to do (the stream ends as the reader catches
   * up). Otherwise the stream cannot complete: destroy it, with an error unless we reset it ourselves.
   */
  connectionClosed(byUs: boolean): void {
    if (this.destroyed || (this.peerEnded && this.finalCalled)) return;
    if (byUs) this.destroy();
    else this.destroy(this.connectionError ?? new ClosedError('connection closed before both sides ended'));
  }

  /**
   * The connection moved on without the stream (an ICE restart): destroy it with `error` and leave the old
   * connection to the agent, which closes it once the peer has switched too (a reset now would reach the peer
   * before its own switch).
   */
  abandon(error: IceTcpError): void {
    this.abandoned = true;
    this.fail(error);
  }

  /** IceConnection.close(): end our side, then give the peer the connection's linger to end its own. */
  closeGracefully(): void {
    this.lingerOnFinal = true;
    if (this.finalCalled || this.destroyed) this.framed.close();
    else this.end();
  }

  override _read(): void {
    this.framed.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: WriteCallback): void {
    if (this.framed.closed) {
      callback(this.connectionError ?? new ClosedError('connection is closed'));
      return;
    }
    let ok: boolean;
    try {
      ok = chunk.length === 0 || this.framed.sendFrames(chunk);
    } catch (error) {
      callback(error instanceof IceTcpError ? error : new ClosedError('connection is closed'));
      return;
    }
    if (ok) callback();
    else this.waitingDrain = callback;
  }

  override _final(callback: WriteCallback): void {
    this.finalCalled = true;
    if (this.framed.closed) {
      callback(this.connectionError ?? new ClosedError('connection is closed'));
      return;
    }
    if (this.lingerOnFinal) this.framed.close();
    else this.framed.end();
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    const pending = this.waitingDrain;
    this.waitingDrain = undefined;
    pending?.(error ?? new ClosedError('stream destroyed'));
    if (this.abandoned) callback(error);
    else {
      if (error) this.framed.reset();
      else this.framed.close();
      callback(error);
    }
  }
}
