import { Duplex } from 'node:stream';
import { TunnelError } from '../errors.js';
import { encodeFrame, FrameType, MAX_DATA, windowFrame } from './frames.js';

/** Bytes each side may send on a fresh stream before the receiver grants more (WINDOW frames). */
export const INITIAL_WINDOW = 256 * 1024;
/** Credit is returned once this much was consumed, so a busy stream sends one WINDOW per 64 KiB. */
const GRANT_THRESHOLD = INITIAL_WINDOW / 4;

/** What a stream needs from its mux: send a frame (false = the connection is congested), wait for room. */
export interface StreamLink {
  send(frame: Buffer): boolean;
  /** Calls `fn` once the connection has room (at once when it has). */
  whenWritable(fn: () => void): void;
  /** The stream is done with both directions (or reset): forget its id. */
  forget(id: number): void;
}

/**
 * One tunnelled byte stream: a Duplex with half-close, carried in DATA frames on the shared connection. Its
 * sender never has more than the receiver's window in flight, and the receiver returns credit only as the
 * application consumes what it was given, so a stream whose reader stalls holds at most 256 KiB in the
 * receiver and never blocks the other streams.
 */
export class MuxStream extends Duplex {
  /** Stream id (odd: opened by the initiator; even: by the other side). */
  readonly id: number;
  private credit = INITIAL_WINDOW;
  private received = 0;
  private granted = 0;
  private consumed = 0;
  private waiting: { data: Buffer; callback: (err?: Error | null) => void } | undefined;
  private finSent = false;
  private finReceived = false;
  private gone = false;

  /** @internal streams come from `Mux.open()` and the mux's `'stream'` event. */
  constructor(
    id: number,
    private readonly link: StreamLink,
  ) {
    super({ allowHalfOpen: true });
    this.id = id;
  }

  /** @internal DATA from the peer. */
  onData(payload: Buffer): void {
    if (this.finReceived || this.gone) return;
    this.received += payload.length;
    if (this.received - this.granted > INITIAL_WINDOW) {
      this.fail(new TunnelError(`tunnel protocol: stream ${this.id} sent beyond its window`), true);
      return;
    }
    // a copy: the payload is a view of the parser's chunk, which would otherwise stay alive with it
    this.push(Buffer.from(payload));
  }

  /** @internal WINDOW from the peer. */
  onWindow(credit: number): void {
    this.credit += credit;
    this.flush();
  }

  /** @internal FIN from the peer. */
  onFin(): void {
    if (this.finReceived) return;
    this.finReceived = true;
    this.push(null);
    this.maybeForget();
  }

  /** @internal RST from the peer, or the connection went away. */
  fail(err: TunnelError, sendReset = false): void {
    if (this.gone) return;
    if (sendReset) this.link.send(encodeFrame(FrameType.Rst, this.id));
    this.gone = true;
    this.link.forget(this.id);
    this.destroy(err);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    // 'data' fires for every byte handed to the reader, in flowing and paused mode alike: that is consumption
    if (event === 'data' && Buffer.isBuffer(args[0])) this.onConsumed(args[0].length);
    return super.emit(event, ...args);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.waiting = { data: chunk, callback };
    this.flush();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (!this.gone) this.link.send(encodeFrame(FrameType.Fin, this.id));
    this.finSent = true;
    this.maybeForget();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.gone) {
      this.gone = true;
      // destroyed before both directions ended: the peer must stop too
      if (!(this.finSent && this.finReceived)) this.link.send(encodeFrame(FrameType.Rst, this.id));
      this.link.forget(this.id);
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.callback(err ?? new TunnelError(`stream ${this.id} closed`));
    callback(err);
  }

  private onConsumed(n: number): void {
    this.consumed += n;
    const grant = this.consumed - this.granted;
    if (grant >= GRANT_THRESHOLD && !this.gone && !this.finReceived) {
      this.granted += grant;
      this.link.send(windowFrame(this.id, grant));
    }
  }

  private flush(): void {
    const w = this.waiting;
    if (!w || this.gone) return;
    while (w.data.length > 0 && this.credit > 0) {
      const n = Math.min(w.data.length, this.credit, MAX_DATA);
      this.link.send(encodeFrame(FrameType.Data, this.id, w.data.subarray(0, n)));
      this.credit -= n;
      w.data = w.data.subarray(n);
    }
    if (w.data.length > 0) return;
    this.waiting = undefined;
    // the write completes when the connection has room: the source feels the shared backpressure too
    this.link.whenWritable(() => w.callback());
  }

  private maybeForget(): void {
    if (this.finSent && this.finReceived && !this.gone) {
      this.gone = true;
      this.link.forget(this.id);
    }
  }
}
