import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { type IceTcpError, ResumeError } from '../errors.js';
import { DEFAULT_ACK_DELAY_MS, DEFAULT_RESUME_WINDOW, ReceiveLedger, SendLedger } from './resume-ledger.js';
import type { ResumeControl } from './resume-wire.js';

const log = createDebug('ice-tcp:connection:resume');

/** What a path reports to the stream that uses it. */
export interface PathHandlers {
  /** Application bytes from the peer (a frame's payload, or part of one). */
  data(chunk: Buffer): void;
  /** One of the peer's resume control messages (already authenticated by the path). */
  control(control: ResumeControl): void;
  /** The peer ended its direction of this path (a TCP FIN): the path can no longer carry the stream. */
  end(): void;
  /** The path can take more after `sendData` returned false. */
  drain(): void;
  /** The path is gone (reset, closed, failed); `error` says why when it was not our doing. */
  close(error?: IceTcpError): void;
  /** The peer broke the protocol on this path (a malformed control message): the stream is destroyed. */
  fail(error: IceTcpError): void;
}

/**
 * One transport the stream can run on: in ice-tcp, the selected pair's framed TCP connection. Its control
 * messages must be told apart from data the way the agent does it (signed STUN indications, see
 * `resume-wire.ts`), with the credentials of the ICE generation the path belongs to.
 */
export interface ResumePath {
  /** Starts delivering events; anything that arrived before is delivered first, in order. */
  open(handlers: PathHandlers): void;
  /** Sends application bytes; false when the path's buffer is full (wait for `drain`). */
  sendData(chunk: Buffer): boolean;
  /** Sends one control message (never held back by the path's backpressure for long: it is tiny). */
  sendControl(control: ResumeControl): void;
  /** Stops reading (receiver backpressure) until `resume()`. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** The stream is done with this path (superseded, or the stream ended): close it, its events are ignored. */
  close(): void;
}

/** Where the stream hands the peer's bytes. */
export interface ResumeReader {
  /** Bytes in stream order; false asks for a pause until {@link ResumableStream.resumeReading}. */
  data(chunk: Buffer): boolean;
  /** The peer ended its direction: every byte before it was delivered. */
  end(): void;
}

/** The clock and timer the stream uses for its delayed acknowledgement (injected by tests). */
export interface ResumeTimers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Options of a {@link ResumableStream}. */
export interface ResumableOptions {
  /** Unacknowledged bytes kept for resending before writes wait (default 16 MiB). */
  window?: number;
  /**
   * Acknowledge after this many bytes (default window / 4, 4 MiB: each ACK wakes the sender, and between two
   * processes on loopback one ACK per 1 MiB cost ~0.6 s/GB of CPU more than one per 2 MiB, one per 4 MiB ~0.25
   * s/GB less; a quarter leaves the sender three quarters of the window to send while an ACK is on its way).
   */
  ackEveryBytes?: number;
  /** Acknowledge unacknowledged bytes after this long anyway (default 100 ms). */
  ackDelayMs?: number;
  timers?: ResumeTimers;
}

/** Events of a {@link ResumableStream}. */
export interface ResumableEvents {
  /** `write()` returned false and the stream can take more now. */
  drain: [];
  /** The peer's RESUME arrived on the current path: the stream runs on it; older paths were closed. */
  resumed: [];
  /** The current path went away; writes are kept (up to the window) until `switchTo()` or `destroy()`. */
  'path-lost': [IceTcpError | undefined];
  /** We ended our direction and the peer acknowledged every byte before the end. */
  'end-acked': [];
  /** Both directions ended and the peer acknowledged every byte we sent. */
  settled: [];
  /** The peer broke the protocol; the stream is destroyed. */
  error: [IceTcpError];
}

type State = 'open' | 'resuming' | 'detached' | 'destroyed';

const realTimers: ResumeTimers = {
  now: () => performance.now(),
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A byte stream that survives a change of path with no byte lost, duplicated or reordered: the sender keeps
 * what the peer has not acknowledged, and on a new path both sides first say how much they received
 * (RESUME), then send again from the peer's offset. See the README, "Seamless path switch (wire format)".
 * Synchronous and transport-agnostic: the caller supplies paths and the reader, and switches on nomination.
 */
export class ResumableStream extends EventEmitter<ResumableEvents> {
  /** The sender's bookkeeping (read-only use: `sent`, `acked`, `unacked`). */
  readonly sendLedger: SendLedger;
  /** The receiver's bookkeeping (read-only use: `received`). */
  readonly receiveLedger: ReceiveLedger;
  private path: ResumePath | undefined;
  private retired: ResumePath[] = [];
  private state: State;
  private pathBlocked = false;
  private writerWaiting = false;
  private readingPaused = false;
  private peerEnded = false;
  private settledEmitted = false;
  private endAckedEmitted = false;
  private ackTimer: unknown;
  private readonly timers: ResumeTimers;

  /** With `path`, the stream starts on it (the first selected pair: both sides at offset 0, no RESUME). */
  constructor(
    private readonly reader: ResumeReader,
    path?: ResumePath,
    options: ResumableOptions = {},
  ) {
    super();
    const window = options.window ?? DEFAULT_RESUME_WINDOW;
    this.sendLedger = new SendLedger(window);
    this.receiveLedger = new ReceiveLedger(
      options.ackEveryBytes ?? Math.max(1, Math.floor(window / 4)),
      options.ackDelayMs ?? DEFAULT_ACK_DELAY_MS,
    );
    this.timers = options.timers ?? realTimers;
    this.state = path ? 'open' : 'detached';
    this.path = path;
    if (path) this.attach(path);
  }

  /** True while the stream has no usable path (lost, or switching and waiting for the peer's RESUME). */
  get switching(): boolean {
    return this.state === 'resuming' || this.state === 'detached';
  }

  /**
   * Writes application bytes (kept by reference until acknowledged: do not modify the buffer afterwards).
   * False: wait for `'drain'` (the window is full or the path is congested). Throws once destroyed.
   */
  write(chunk: Buffer): boolean {
    if (this.state === 'destroyed') throw new ResumeError('resumable stream is destroyed');
    this.sendLedger.record(chunk);
    if (this.state === 'open' && chunk.length > 0 && !(this.path as ResumePath).sendData(chunk)) {
      this.pathBlocked = true;
    }
    const ok = this.canWrite();
    if (!ok) this.writerWaiting = true;
    return ok;
  }

  /**
   * Ends our direction after everything written, with an in-band END (the path stays open both ways, so
   * that we can still acknowledge); it survives switches like the bytes do.
   */
  end(): void {
    if (this.state === 'destroyed' || this.sendLedger.endOffset !== undefined) return;
    this.sendLedger.markEnd();
    if (this.state === 'open') this.path?.sendControl({ kind: 'end', bytes: this.sendLedger.sent });
  }

  /**
   * Moves the stream to `path` (a new pair was nominated): older paths are no longer read or written, our
   * RESUME goes out first, and sending continues from the peer's RESUME offset when it arrives.
   */
  switchTo(path: ResumePath): void {
    if (this.state === 'destroyed') {
      path.close();
      return;
    }
    if (this.path) this.retired.push(this.path);
    this.path = path;
    this.state = 'resuming';
    this.pathBlocked = false;
    this.clearAckTimer();
    path.sendControl({ kind: 'resume', bytes: this.receiveLedger.takeAck() });
    this.attach(path);
    if (this.readingPaused) path.pause();
  }

  /** The reader caught up after `data()` returned false. */
  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.path?.resume();
  }

  /** Stops everything: closes every path and timer; `error` is emitted when given. */
  destroy(error?: IceTcpError): void {
    if (this.state === 'destroyed') return;
    this.state = 'destroyed';
    this.clearAckTimer();
    for (const p of this.retired.splice(0)) p.close();
    this.path?.close();
    this.path = undefined;
    if (error) this.emit('error', error);
  }

  private attach(path: ResumePath): void {
    path.open({
      data: (chunk) => this.path === path && this.onData(path, chunk),
      control: (control) => this.path === path && this.guard(() => this.onControl(path, control)),
      end: () => this.path === path && this.onPathEnd(path),
      drain: () => this.path === path && this.onDrain(),
      close: (error) => this.path === path && this.onPathClose(error),
      fail: (error) => this.path === path && this.destroy(error),
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      const e = error instanceof ResumeError ? error : new ResumeError(String(error), { cause: error });
      log('protocol error, destroying: %s', e.message);
      this.destroy(e);
    }
  }

  private onData(path: ResumePath, chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.state === 'resuming' || this.peerEnded) {
      const why = this.peerEnded ? 'after its END' : 'before its RESUME';
      this.destroy(new ResumeError(`peer sent data ${why} on this path`));
      return;
    }
    // the clock only for the first byte after an ACK: a read per chunk was a visible cost at 1 GB/s
    const ledger = this.receiveLedger;
    ledger.onData(chunk.length, ledger.idle ? this.timers.now() : 0);
    if (!this.reader.data(chunk) && !this.readingPaused) {
      this.readingPaused = true;
      path.pause();
    }
    this.maybeAck();
  }

  private onControl(path: ResumePath, control: ResumeControl): void {
    if (control.kind === 'ack') {
      this.sendLedger.onAck(control.bytes);
      this.afterProgress();
      return;
    }
    if (control.kind === 'end') {
      this.onPeerEnd(control.bytes);
      return;
    }
    if (this.state !== 'resuming') throw new ResumeError('RESUME on a path already resumed');
    const resend = this.sendLedger.resendFrom(control.bytes);
    log('peer resumes at %d of %d bytes sent', control.bytes, this.sendLedger.sent);
    this.state = 'open';
    for (const p of this.retired.splice(0)) p.close();
    for (const chunk of resend) if (!path.sendData(chunk)) this.pathBlocked = true;
    const end = this.sendLedger.endOffset;
    if (end !== undefined && this.sendLedger.endNeeded(control.bytes))
      path.sendControl({ kind: 'end', bytes: end });
    this.emit('resumed');
    this.maybeAck();
    this.afterProgress();
  }

  private onPeerEnd(length: number): void {
    if (this.state === 'resuming') throw new ResumeError('peer ended the stream before its RESUME');
    if (this.peerEnded) throw new ResumeError('peer ended the stream twice');
    if (length !== this.receiveLedger.received) {
      throw new ResumeError(
        `peer ended the stream at ${length} bytes, ${this.receiveLedger.received} received`,
      );
    }
    this.peerEnded = true;
    this.receiveLedger.onEnd(this.timers.now());
    this.reader.end();
    // the final count at once: the peer's ledger settles without waiting for the delay
    this.sendAck();
    this.checkSettled();
  }

  /** A TCP FIN on the current path: fine once the stream is over, otherwise the path is lost. */
  private onPathEnd(path: ResumePath): void {
    if (this.settledEmitted) return;
    path.close();
    this.onPathClose(new ResumeError('the peer closed the path before the stream was over'));
  }

  private onDrain(): void {
    this.pathBlocked = false;
    this.afterProgress();
  }

  private onPathClose(error: IceTcpError | undefined): void {
    this.path = undefined;
    this.state = 'detached';
    this.clearAckTimer();
    if (this.settledEmitted) return;
    log('path lost: %s', error?.message ?? 'closed');
    this.emit('path-lost', error);
  }

  private canWrite(): boolean {
    return !this.sendLedger.full && !this.pathBlocked;
  }

  private afterProgress(): void {
    if (this.writerWaiting && this.canWrite()) {
      this.writerWaiting = false;
      this.emit('drain');
    }
    this.checkSettled();
  }

  private checkSettled(): void {
    if (!this.sendLedger.settled) return;
    if (!this.endAckedEmitted) {
      this.endAckedEmitted = true;
      this.emit('end-acked');
    }
    if (this.settledEmitted || !this.peerEnded) return;
    this.settledEmitted = true;
    this.emit('settled');
  }

  private maybeAck(): void {
    if (this.state !== 'open' || !this.path) return;
    if (this.receiveLedger.bytesDue) {
      this.sendAck();
      return;
    }
    // an armed timer judges the delay when it fires: no clock read per chunk meanwhile
    const at = this.receiveLedger.nextAckAt();
    if (at === undefined || this.ackTimer !== undefined) return;
    const now = this.timers.now();
    if (this.receiveLedger.ackDue(now)) {
      this.sendAck();
      return;
    }
    this.ackTimer = this.timers.set(
      () => {
        this.ackTimer = undefined;
        this.maybeAck();
      },
      Math.max(0, at - now),
    );
  }

  private sendAck(): void {
    this.clearAckTimer();
    this.path?.sendControl({ kind: 'ack', bytes: this.receiveLedger.takeAck() });
  }

  private clearAckTimer(): void {
    if (this.ackTimer === undefined) return;
    this.timers.clear(this.ackTimer);
    this.ackTimer = undefined;
  }
}
