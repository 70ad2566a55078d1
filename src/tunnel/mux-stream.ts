import { Duplex } from 'node:stream';
import { TunnelError } from '../errors.js';
import { encodeFrame, FrameType, MAX_DATA, windowFrame } from './frames.js';

/** Bytes each side may send on a fresh stream before the receiver grants more (WINDOW frames). */
export const INITIAL_WINDOW = 256 * 1024;
/**
 * Default ceiling of a stream's receive window as it grows: a byte stream moves at most one window per round
 * trip, and 1 Gbit/s over a 100 ms path needs 12.5 MB in flight.
 */
export const MAX_STREAM_WINDOW = 16 * 1024 * 1024;

/** What a stream needs from its mux: send a frame (false = the connection is congested), wait for room. */
export interface StreamLink {
  send(frame: Buffer): boolean;
  /** Calls `fn` once the connection has room (at once when it has). */
  whenWritable(fn: () => void): void;
  /** The stream is done with both directions (or reset): forget its id and return its window's growth. */
  forget(id: number, growth: number): void;
  /** Takes up to `bytes` of window growth from the mux's budget; returns how much it may grow. */
  reserveGrowth(bytes: number): number;
  /** The path's round-trip time (ms) and the clock (ms) that decide when a window grows. */
  rttMs(): number;
  now(): number;
  /** Largest receive window a stream may grow to. */
  readonly maxWindow: number;
}

/**
 * One tunnelled byte stream: a Duplex with half-close, carried in DATA frames on the shared connection. Its
 * sender never has more than the receiver's window in flight, and the receiver returns credit only as the
 * application consumes what it was given, so a stream whose reader stalls holds at most its window in the
 * receiver and never blocks the other streams. The window starts at 256 KiB, which caps a stream at 256 KiB
 * per round trip (12.5 MB/s at 20 ms), and doubles, up to `maxWindow` and within the mux's budget, whenever
 * a quarter of it was consumed within one round trip since the last grant: the stream then moves more than a
 * quarter of its window per round trip, so the window ends up near four times what the path carries in one
 * (headroom for a round trip that grows under load). A reader slower than that grants slowly and never grows
 * its window; one that stalls after its window grew holds at most that window, and the mux's budget bounds
 * the growth of all its streams together.
 */
export class MuxStream extends Duplex {
  /** Stream id (odd: opened by the initiator; even: by the other side). */
  readonly id: number;
  private credit = INITIAL_WINDOW;
  private received = 0;
  private granted = 0;
  private consumed = 0;
  /** Our receive window: the peer may send up to `consumed + window` once we granted it. */
  private window = INITIAL_WINDOW;
  private lastGrantAt: number;
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
    this.lastGrantAt = link.now();
  }

  /** The receive window in bytes: 256 KiB at first, more once the stream moves fast enough to need it. */
  get receiveWindow(): number {
    return this.window;
  }

  /** @internal DATA from the peer. */
  onData(payload: Buffer): void {
    if (this.finReceived || this.gone) return;
    this.received += payload.length;
    // the peer's credit: the initial window and every WINDOW we sent (growth is granted like consumption)
    if (this.received > INITIAL_WINDOW + this.granted) {
      this.fail(new TunnelError(`tunnel protocol: stream ${this.id} sent beyond its window`), true);
      return;
    }
    // the payload is a view (frames.ts): one that is most of its memory is handed on as it is; a small view
    // would keep a whole chunk alive for as long as the reader holds it, so that one is copied
    this.push(payload.length * 2 >= payload.buffer.byteLength ? payload : Buffer.from(payload));
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
    this.link.forget(this.id, this.growth);
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
      this.link.forget(this.id, this.growth);
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.callback(err ?? new TunnelError(`stream ${this.id} closed`));
    callback(err);
  }

  private onConsumed(n: number): void {
    this.consumed += n;
    if (this.gone || this.finReceived) return;
    const limit = INITIAL_WINDOW + this.granted;
    // credit goes back once a quarter of the window was consumed: one WINDOW per 64 KiB at first
    if (this.consumed + this.window - limit < this.window / 4) return;
    // as QUIC receivers auto-tune theirs (RFC 9000 §4.2 leaves the size to the receiver): grow when credit
    // goes back faster than the path's round trip, which means the window, not the reader, is the limit
    const now = this.link.now();
    if (now - this.lastGrantAt < this.link.rttMs()) this.grow();
    this.lastGrantAt = now;
    const grant = this.consumed + this.window - limit;
    this.granted += grant;
    this.link.send(windowFrame(this.id, grant));
  }

  /** Doubles the window, as far as `maxWindow` and the mux's budget let it. */
  private grow(): void {
    const wanted = Math.min(this.window, this.link.maxWindow - this.window);
    if (wanted <= 0) return;
    const got = this.link.reserveGrowth(wanted);
    this.window += got;
  }

  /** How far the window grew beyond the initial one: given back to the mux's budget when the stream goes. */
  private get growth(): number {
    return this.window - INITIAL_WINDOW;
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
      this.link.forget(this.id, this.growth);
    }
  }
}
