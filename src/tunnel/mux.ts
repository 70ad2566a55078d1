import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { InvalidArgumentError, TunnelError } from '../errors.js';
import { encodeFrame, FrameParser, FrameType } from './frames.js';
import { INITIAL_WINDOW, MAX_STREAM_WINDOW, MuxStream } from './mux-stream.js';

/** Default growth, beyond their initial 256 KiB, that the receive windows of one mux's streams may hold at once. */
export const WINDOW_BUDGET = 64 * 1024 * 1024;
/** Largest `maxStreamWindow` accepted: 1 GiB, far inside a WINDOW frame's u32 credit. */
const MAX_WINDOW_LIMIT = 1024 * 1024 * 1024;
/** The round trip assumed while none is known: a long path, so a busy stream's window grows rather than caps it. */
const UNKNOWN_RTT_MS = 100;

/** Options of a {@link Mux}. */
export interface MuxOptions {
  /** The side that opens streams with odd ids (the other side's ids are even). Both sides may open. */
  initiator: boolean;
  /** Streams the peer may have open at once; an OPEN beyond it is answered with RST. Default 1024. */
  maxStreams?: number;
  /**
   * The connection's round-trip time in ms (the selected ICE pair's), asked whenever a window may grow;
   * undefined while unknown (then 100 ms is assumed).
   */
  rttMs?: () => number | undefined;
  /** Largest receive window a stream grows to, bytes. Default 16 MiB; 256 KiB keeps every window fixed. */
  maxStreamWindow?: number;
  /** Total growth beyond the initial windows that all streams may hold at once, bytes. Default 64 MiB. */
  windowBudget?: number;
  /** The clock (ms) the windows' growth is judged on; `performance.now` by default. */
  now?: () => number;
}

/** Events of a {@link Mux}. */
export interface MuxEvents {
  /** The peer opened a stream. */
  stream: [MuxStream];
  /** The peer broke the protocol; the connection is destroyed. */
  error: [TunnelError];
  /** The connection ended; every stream still open was failed with `ERR_TUNNEL`. */
  close: [];
}

/**
 * Many byte streams over one connection (the ICE stream of a tunnel): each stream has its own credit-based
 * flow control and half-close, so one that stalls never stalls the others. Wire format: README, "Tunnel wire
 * format".
 */
export class Mux extends EventEmitter<MuxEvents> {
  private readonly streams = new Map<number, MuxStream>();
  private readonly parser = new FrameParser();
  private readonly writableWaiters: Array<() => void> = [];
  private readonly maxStreams: number;
  private readonly maxStreamWindow: number;
  /** Window growth not yet taken by a stream. */
  private budget: number;
  private readonly rttMs: () => number;
  private readonly now: () => number;
  private nextId: number;
  private congested = false;
  private closed = false;

  constructor(
    private readonly connection: Duplex,
    options: MuxOptions,
  ) {
    super();
    this.nextId = options.initiator ? 1 : 2;
    this.maxStreams = options.maxStreams ?? 1024;
    this.maxStreamWindow = options.maxStreamWindow ?? MAX_STREAM_WINDOW;
    this.budget = options.windowBudget ?? WINDOW_BUDGET;
    // a WINDOW frame's credit is a u32; a window below the initial one could never be honoured
    if (
      !Number.isInteger(this.maxStreamWindow) ||
      this.maxStreamWindow < INITIAL_WINDOW ||
      this.maxStreamWindow > MAX_WINDOW_LIMIT
    )
      throw new InvalidArgumentError(
        `maxStreamWindow must be an integer in ${INITIAL_WINDOW}..${MAX_WINDOW_LIMIT}, got ${this.maxStreamWindow}`,
      );
    if (!Number.isSafeInteger(this.budget) || this.budget < 0)
      throw new InvalidArgumentError(`windowBudget must be a non-negative integer, got ${this.budget}`);
    const rtt = options.rttMs;
    this.rttMs = () => rtt?.() ?? UNKNOWN_RTT_MS;
    this.now = options.now ?? (() => performance.now());
    connection.on('data', (chunk: Buffer) => this.onBytes(chunk));
    connection.on('drain', () => {
      this.congested = false;
      for (const fn of this.writableWaiters.splice(0)) fn();
    });
    connection.on('end', () => this.shutdown('tunnel connection ended'));
    connection.on('error', (err) => this.shutdown(`tunnel connection failed: ${err.message}`));
    connection.on('close', () => this.shutdown('tunnel connection closed'));
  }

  /** Streams open now. */
  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream; bytes written to it may leave at once (the peer takes up to the initial window). */
  open(): MuxStream {
    if (this.closed) throw new TunnelError('tunnel connection is closed');
    const id = this.nextId;
    this.nextId += 2;
    const stream = this.createStream(id);
    this.send(encodeFrame(FrameType.Open, id));
    return stream;
  }

  /** Ends the connection once everything written has left (streams still open are failed by the close). */
  close(): void {
    this.connection.end();
  }

  private createStream(id: number): MuxStream {
    const stream = new MuxStream(id, {
      send: (frame) => this.send(frame),
      whenWritable: (fn) => {
        if (!this.congested || this.closed) fn();
        else this.writableWaiters.push(fn);
      },
      forget: (sid, growth) => {
        if (this.streams.delete(sid)) this.budget += growth;
      },
      reserveGrowth: (bytes) => {
        const got = Math.max(0, Math.min(bytes, this.budget));
        this.budget -= got;
        return got;
      },
      rttMs: this.rttMs,
      now: this.now,
      maxWindow: this.maxStreamWindow,
    });
    this.streams.set(id, stream);
    return stream;
  }

  private send(frame: Buffer): boolean {
    if (this.closed || this.connection.destroyed || this.connection.writableEnded) return false;
    const ok = this.connection.write(frame);
    if (!ok) this.congested = true;
    return ok;
  }

  private onBytes(chunk: Buffer): void {
    let frames: ReturnType<FrameParser['push']>;
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.protocolError(err as TunnelError);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      const stream = this.streams.get(frame.id);
      switch (frame.type) {
        case FrameType.Open:
          this.onOpen(frame.id, stream);
          break;
        case FrameType.Data:
          // frames for a stream we already reset were in flight: drop them
          stream?.onData(frame.payload);
          break;
        case FrameType.Window:
          stream?.onWindow(frame.payload.readUInt32BE(0));
          break;
        case FrameType.Fin:
          stream?.onFin();
          break;
        case FrameType.Rst:
          stream?.fail(new TunnelError(`stream ${frame.id} reset by the peer`));
          break;
      }
    }
  }

  private onOpen(id: number, existing: MuxStream | undefined): void {
    const peersParity = this.nextId % 2 === 1 ? 0 : 1;
    if (existing || id % 2 !== peersParity) {
      this.protocolError(new TunnelError(`tunnel protocol: bad OPEN of stream ${id}`));
      return;
    }
    if (this.streams.size >= this.maxStreams) {
      this.send(encodeFrame(FrameType.Rst, id));
      return;
    }
    this.emit('stream', this.createStream(id));
  }

  private protocolError(err: TunnelError): void {
    this.emit('error', err);
    this.shutdown(err.message);
    this.connection.destroy();
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.fail(new TunnelError(reason));
    this.streams.clear();
    for (const fn of this.writableWaiters.splice(0)) fn();
    this.emit('close');
  }
}
