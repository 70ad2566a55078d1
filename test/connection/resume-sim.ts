/**
 * A deterministic in-memory network for the resume protocol: links with two ends, frames in flight per
 * direction, backpressure, cuts (everything in flight dropped, both ends told), and a fake clock. Tests pick
 * what is delivered when, so fast-check can explore interleavings and replay a failure exactly.
 */
import { createHash } from 'node:crypto';
import {
  type PathHandlers,
  type ResumableOptions,
  ResumableStream,
  type ResumePath,
  type ResumeTimers,
} from '../../src/connection/resumable.js';
import {
  decodeResumeFrame,
  encodeResumeControl,
  type ResumeControl,
} from '../../src/connection/resume-wire.js';
import { type IceTcpError, SocketError } from '../../src/errors.js';
import { shortTermKey } from '../../src/stun/index.js';

type Event =
  | { t: 'data'; b: Buffer }
  | { t: 'ctl'; frame: Buffer }
  | { t: 'end' }
  | { t: 'close'; error?: IceTcpError };

/** Bytes in flight per direction above which `sendData` says false. */
export const LINK_HIGH_WATER = 16 * 1024;

/** The two sides' ICE passwords: control frames are really encoded, signed and checked. */
const KEYS = { A: shortTermKey('passwordofsideA0123456789'), B: shortTermKey('passwordofsideB0123456789') };

/** One end of a {@link SimLink}, the {@link ResumePath} a stream uses. */
export class SimEnd implements ResumePath {
  handlers: PathHandlers | undefined;
  paused = false;
  closed = false;
  blocked = false;
  readonly inbox: Event[] = [];
  inFlight = 0;
  peer!: SimEnd;

  constructor(
    readonly link: SimLink,
    readonly side: 'A' | 'B',
  ) {}

  open(handlers: PathHandlers): void {
    this.handlers = handlers;
  }

  sendData(chunk: Buffer): boolean {
    if (this.closed) throw new Error('sendData on a closed path');
    if (this.link.dead) return true;
    this.peer.inbox.push({ t: 'data', b: chunk });
    this.inFlight += chunk.length;
    this.link.dataSent += chunk.length;
    if (this.inFlight >= LINK_HIGH_WATER) this.blocked = true;
    return !this.blocked;
  }

  sendControl(control: ResumeControl): void {
    if (this.closed) throw new Error('sendControl on a closed path');
    if (this.link.dead) return;
    this.peer.inbox.push({ t: 'ctl', frame: encodeResumeControl(control, KEYS[this.side]) });
  }

  end(): void {
    if (!this.link.dead && !this.closed) this.peer.inbox.push({ t: 'end' });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    if (!this.link.dead) this.peer.inbox.push({ t: 'close' });
  }

  /** Whether the next event can be delivered now. */
  ready(): boolean {
    return this.handlers !== undefined && !this.paused && !this.closed && this.inbox.length > 0;
  }

  /**
   * Delivers the oldest event in this end's inbox; `pick` may cut a data chunk short (the rest stays first in
   * line), as TCP delivers a frame's bytes in pieces: offsets then fall inside the sender's chunks.
   */
  deliverOne(pick = 0): void {
    const e = this.inbox[0] as Event;
    const h = this.handlers as PathHandlers;
    if (e.t === 'data') {
      const n = pick % 3 === 0 ? e.b.length : 1 + (pick % e.b.length);
      if (n < e.b.length) this.inbox[0] = { t: 'data', b: e.b.subarray(n) };
      else this.inbox.shift();
      this.peer.inFlight -= n;
      h.data(e.b.subarray(0, n));
      if (this.peer.blocked && this.peer.inFlight < LINK_HIGH_WATER / 2 && !this.peer.closed) {
        this.peer.blocked = false;
        this.peer.handlers?.drain();
      }
    } else if (e.t === 'ctl') {
      this.inbox.shift();
      const control = decodeResumeFrame(e.frame, KEYS[this.peer.side]);
      if (!control) throw new Error('a control frame did not decode');
      h.control(control);
    } else if (e.t === 'end') {
      this.inbox.shift();
      h.end();
    } else {
      this.inbox.shift();
      this.closed = true;
      h.close(e.error);
    }
  }
}

/** A path between side A and side B. */
export class SimLink {
  dead = false;
  dataSent = 0;
  readonly a = new SimEnd(this, 'A');
  readonly b = new SimEnd(this, 'B');

  constructor(readonly id: number) {
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** The network under this link died: everything in flight is lost and both ends learn it. */
  cut(): void {
    if (this.dead) return;
    this.dead = true;
    for (const end of [this.a, this.b]) {
      end.inbox.length = 0;
      end.inFlight = 0;
      if (!end.closed) end.inbox.push({ t: 'close', error: new SocketError('cut', 'ECONNRESET') });
    }
  }
}

/** A clock that moves only when told; timers fire in order. */
export class FakeTimers implements ResumeTimers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get armed(): number {
    return this.pending.size;
  }

  /** Moves the clock by `ms`, firing what falls due. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) if (!next || entry[1].at < next[1].at) next = entry;
      if (!next || next[1].at > until) break;
      this.pending.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = until;
  }

  /** Fires the earliest timer (moving the clock to it); false when none is armed. */
  fireNext(): boolean {
    let next: { at: number } | undefined;
    for (const entry of this.pending.values()) if (!next || entry.at < next.at) next = entry;
    if (!next) return false;
    this.advance(next.at - this.time);
    return true;
  }
}

/** Deterministic, non-periodic content: byte `i` of side `side`'s stream (a reorder or duplicate shows). */
export function patternByte(side: number, i: number): number {
  return (Math.imul(i + 1, 2654435761) ^ Math.imul(side + 7, 40503)) >>> 24;
}

/** `length` bytes of the pattern from `offset`. */
export function patternChunk(side: number, offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = patternByte(side, offset + i);
  return b;
}

/** One side of a simulated transfer: a stream, a writer of pattern bytes, a reader that checks them. */
export class SimSide {
  stream!: ResumableStream;
  written = 0;
  writerWaiting = false;
  ended = false;
  /** Bytes of the peer's stream received, checked against the pattern as they come. */
  received = 0;
  readonly hash = createHash('sha256');
  readerBacklog = 0;
  peerEnded = false;
  settled = false;
  errors: Error[] = [];
  maxUnacked = 0;
  pathLost = 0;

  constructor(
    readonly index: 0 | 1,
    readonly total: number,
    readonly readerLimit: number,
  ) {}

  /** Builds the stream; the reader pauses past `readerLimit` unread bytes. */
  start(path: ResumePath | undefined, options: ResumableOptions): void {
    const peer = 1 - this.index;
    this.stream = new ResumableStream(
      {
        data: (chunk) => {
          for (let i = 0; i < chunk.length; i++) {
            if (chunk[i] !== patternByte(peer, this.received + i)) {
              throw new Error(`side ${this.index}: wrong byte at ${this.received + i}`);
            }
          }
          this.received += chunk.length;
          this.hash.update(chunk);
          this.readerBacklog += chunk.length;
          return this.readerBacklog < this.readerLimit;
        },
        end: () => {
          if (this.peerEnded) throw new Error('end twice');
          this.peerEnded = true;
        },
      },
      path,
      options,
    );
    this.stream.on('drain', () => {
      this.writerWaiting = false;
    });
    this.stream.on('error', (e) => this.errors.push(e));
    this.stream.on('settled', () => {
      this.settled = true;
    });
    this.stream.on('path-lost', () => {
      this.pathLost++;
    });
  }

  /** Writes up to `size` more bytes unless the stream asked to wait. */
  write(size: number): void {
    if (this.writerWaiting || this.ended || this.written >= this.total) return;
    const n = Math.min(size, this.total - this.written);
    const ok = this.stream.write(patternChunk(this.index, this.written, n));
    this.written += n;
    if (!ok) this.writerWaiting = true;
    this.maxUnacked = Math.max(this.maxUnacked, this.stream.sendLedger.unacked);
  }

  /** The application read everything delivered so far. */
  consume(): void {
    this.readerBacklog = 0;
    this.stream.resumeReading();
  }

  /** Ends the writer once everything is written. */
  maybeEnd(): void {
    if (!this.ended && this.written >= this.total) {
      this.ended = true;
      this.stream.end();
    }
  }
}

/** Two sides, the links between them, and the fake clock: what a property test drives step by step. */
export class Transfer {
  readonly timers = new FakeTimers();
  readonly links: SimLink[] = [];
  readonly sides: [SimSide, SimSide];
  /** The link each side's stream is on. */
  readonly onLink: [SimLink, SimLink];

  constructor(totals: [number, number], options: ResumableOptions, readerLimit = 1 << 20) {
    this.sides = [new SimSide(0, totals[0], readerLimit), new SimSide(1, totals[1], readerLimit)];
    const first = this.newLink();
    this.onLink = [first, first];
    this.sides[0].start(first.a, { ...options, timers: this.timers });
    this.sides[1].start(first.b, { ...options, timers: this.timers });
  }

  get latest(): SimLink {
    return this.links.at(-1) as SimLink;
  }

  newLink(): SimLink {
    const link = new SimLink(this.links.length);
    this.links.push(link);
    return link;
  }

  /** Side `i` learns the newest pair was nominated. */
  switchSide(i: 0 | 1): void {
    const link = this.latest;
    if (this.onLink[i] === link) return;
    this.onLink[i] = link;
    this.sides[i].stream.switchTo(i === 0 ? link.a : link.b);
  }

  /** Delivers one event on some end that can take one (`pick` chooses which); false when none can. */
  deliver(pick: number): boolean {
    const ready: SimEnd[] = [];
    for (const link of this.links) for (const end of [link.a, link.b]) if (end.ready()) ready.push(end);
    if (ready.length === 0) return false;
    (ready[pick % ready.length] as SimEnd).deliverOne(Math.floor(pick / ready.length));
    return true;
  }

  /** Runs to the end: both sides on one live link, everything written, delivered, ended and acknowledged. */
  finish(writeSize: number, maxSteps = 2_000_000): void {
    for (let step = 0; step < maxSteps; step++) {
      const l = this.latest;
      if (l.dead || l.a.closed || l.b.closed) this.newLink();
      this.switchSide(0);
      this.switchSide(1);
      for (const s of this.sides) {
        s.consume();
        s.write(writeSize);
        s.maybeEnd();
      }
      if (this.deliver(step)) continue;
      if (this.sides.every((s) => s.settled && s.peerEnded)) return;
      if (!this.timers.fireNext()) break;
    }
    throw new Error('transfer did not finish');
  }
}
