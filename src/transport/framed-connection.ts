import type { Socket } from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import {
  ClosedError,
  FrameTooLargeError,
  type IceTcpError,
  InvalidArgumentError,
  wrapError,
} from '../errors.js';
import { type FrameSink, Rfc4571Deframer } from '../framing/index.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:framing');

/** The largest payload RFC 4571's 16-bit length field can announce. */
export const MAX_RFC4571_PAYLOAD = 0xffff;

/** Up to this size one copy of header + payload is cheaper than a corked two-buffer writev. */
const COPY_THRESHOLD = 2048;

/** The header of every full frame: shared, as its bytes never change, so a large write allocates no headers. */
const FULL_FRAME_HEADER = Buffer.from([0xff, 0xff]);

/** After close()'s FIN went out, how long the peer may stay silent without ending its side before we reset. */
const CLOSE_LINGER_MS = 5000;

/** Options of a {@link FramedConnection}. */
export interface FramedConnectionOptions {
  /** Largest frame accepted from the peer; a larger announced length resets the connection. Default 65535. */
  maxFrameSize?: number;
  /**
   * The local end, when the caller knows it (a listener bound to one address): asking the socket is a system
   * call per accepted connection, paid for every connection of a flood.
   */
  local?: { address: string; port: number };
  /** The peer as ICE sees it, when the socket's own remote end is not the peer (a TURN data connection). */
  peer?: { address: string; port: number };
}

/** Events of a {@link FramedConnection}. */
export type FramedConnectionEvents = {
  frame: [Buffer];
  /** The peer ended its direction (FIN), after every frame before it was delivered. */
  end: [];
  /** After {@link FramedConnection.streamFrames}: a piece of the payload of a frame passed through unassembled. */
  bytes: [Buffer];
  drain: [];
  close: [hadError: boolean];
  error: [IceTcpError];
};

/** An RFC 4571-framed TCP connection (checks and data of one candidate pair). */
export class FramedConnection extends EventEmitter<FramedConnectionEvents> {
  /** The underlying socket, for statistics (`bytesRead`, `bytesWritten`); do not read or write it. */
  readonly socket: Socket;
  /** Local IP address of the connection. */
  readonly localAddress: string;
  /** Local TCP port of the connection. */
  readonly localPort: number;
  /** Remote IP address of the connection. */
  readonly remoteAddress: string;
  /** Remote TCP port of the connection. */
  readonly remotePort: number;

  readonly #deframer: Rfc4571Deframer;
  // Frames already cut from the stream while paused: one TCP chunk can hold many frames.
  readonly #queued = new FrameQueue();
  #sink: FrameSink | undefined;
  #paused = false;
  #closing = false;
  #gone = false;
  #failed = false;
  #halfOpen = false;
  #peerEnded = false;
  #endEmitted = false;
  #linger: NodeJS.Timeout | undefined;
  /** The socket closed cleanly while the peer's last frames were still queued: 'close' follows their 'end'. */
  #closeAfterEnd = false;

  constructor(socket: Socket, options: FramedConnectionOptions = {}) {
    super();
    const maxFrameSize = options.maxFrameSize ?? MAX_RFC4571_PAYLOAD;
    assertMaxFrameSize(maxFrameSize);
    this.socket = socket;
    this.localAddress = options.local?.address ?? socket.localAddress ?? '';
    this.localPort = options.local?.port ?? socket.localPort ?? 0;
    this.remoteAddress = options.peer?.address ?? socket.remoteAddress ?? '';
    this.remotePort = options.peer?.port ?? socket.remotePort ?? 0;
    this.#deframer = new Rfc4571Deframer({ maxFrameSize });
    // Node would end our direction on the peer's FIN, before the application had its say: we decide in #onEnd.
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (error) => this.#onSocketError(error));
    socket.on('close', (hadError) => this.#onClose(hadError));
    if (socket.destroyed) {
      this.#gone = true;
      queueMicrotask(() => this.emit('close', false));
    }
  }

  /** True once end(), close() or reset() was called or the socket closed: sendFrame() would throw. */
  get closed(): boolean {
    return this.#closing || this.#gone;
  }

  /** Whether sendFrame() would write now: not closed, and the socket not ended or destroyed (by a reset). */
  get writable(): boolean {
    return !this.closed && this.socket.writable;
  }

  /** True once the peer ended its direction (its FIN arrived and every frame before it was delivered). */
  get peerEnded(): boolean {
    return this.#endEmitted;
  }

  /**
   * From now on the peer's FIN ends only its direction (an 'end' event): we may go on sending until end().
   * Without it the FIN ends our direction too, after what was already written (net.Socket's default), so that
   * a check connection the peer closes never lingers half-open.
   */
  allowHalfOpen(): void {
    this.#halfOpen = true;
  }

  /**
   * Sends one frame (header and payload in one write). Returns false when the socket's buffer is over its
   * high-water mark: wait for 'drain' before sending more. Throws ClosedError once closed.
   */
  sendFrame(payload: Buffer): boolean {
    if (this.closed || !this.socket.writable) throw new ClosedError('framed connection is closed');
    if (payload.length > MAX_RFC4571_PAYLOAD) {
      throw new InvalidArgumentError(
        `frame payload of ${payload.length} bytes exceeds ${MAX_RFC4571_PAYLOAD}`,
      );
    }
    const length = payload.length;
    if (length <= COPY_THRESHOLD) {
      const frame = Buffer.allocUnsafe(2 + length);
      frame.writeUInt16BE(length, 0);
      payload.copy(frame, 2);
      return this.socket.write(frame);
    }
    let header = FULL_FRAME_HEADER;
    if (length !== MAX_RFC4571_PAYLOAD) {
      header = Buffer.allocUnsafe(2);
      header.writeUInt16BE(length, 0);
    }
    // Corked writes leave as one writev: no copy of a large payload, and still one segment train.
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(payload);
    this.socket.uncork();
    return this.#belowHighWaterMark();
  }

  /**
   * Sends `bytes` as consecutive frames of up to 65535 bytes, corked so that they leave in one writev
   * (no copy of the payload, one system call rather than one per frame). Returns as {@link sendFrame}.
   */
  sendFrames(bytes: Buffer): boolean {
    if (bytes.length <= MAX_RFC4571_PAYLOAD) return this.sendFrame(bytes);
    if (this.closed || !this.socket.writable) throw new ClosedError('framed connection is closed');
    this.socket.cork();
    try {
      for (let offset = 0; offset < bytes.length; offset += MAX_RFC4571_PAYLOAD) {
        this.sendFrame(bytes.subarray(offset, offset + MAX_RFC4571_PAYLOAD));
      }
    } finally {
      this.socket.uncork();
    }
    return this.#belowHighWaterMark();
  }

  /**
   * Backpressure after a corked write, judged once it is flushed: while corked, write() counts every
   * buffered byte and says false past 16 KiB even when uncork() then hands all of it to the kernel at
   * once, which would make the sender wait for a 'drain' after every large write for nothing.
   */
  #belowHighWaterMark(): boolean {
    return this.socket.writableLength < this.socket.writableHighWaterMark;
  }

  /**
   * From now on, frames for which `passThrough(firstByte, length)` is true come as 'bytes' events, in pieces
   * as they arrive, instead of whole as 'frame': a byte stream needs no frame boundaries, and reassembling
   * the frames that straddle socket reads (nearly all large ones) would copy nearly every byte once more.
   */
  streamFrames(passThrough: FrameSink['streams']): void {
    // Queued and delivered after the whole chunk is cut, not emitted from inside the cut: measured between two
    // processes, emitting from inside cost the receiver ~1.5x the CPU per GB (in the read path, not in JS).
    const queued = this.#queued;
    this.#sink = {
      frame: (frame) => {
        queued.push(frame);
      },
      bytes: (piece) => {
        queued.push(piece, true);
      },
      streams: passThrough,
    };
  }

  /**
   * TCP keepalive after `idleMs` of silence (the selected pair's): a peer that vanished without a FIN or RST
   * (host down, NAT state dropped) is noticed by the kernel even while neither side sends.
   */
  setKeepAlive(idleMs: number): void {
    if (!this.#gone) this.socket.setKeepAlive(true, idleMs);
  }

  /** Stops 'frame' events and reading from the socket, so TCP flow control pushes back on the peer. */
  pause(): void {
    this.#paused = true;
    this.socket.pause();
  }

  /** Delivers frames held back by pause() and reads from the socket again. */
  resume(): void {
    this.#paused = false;
    this.#deliverQueued();
    if (!this.#paused && !this.#gone) this.socket.resume();
  }

  /** Ends our direction: FIN once pending writes flushed. Frames from the peer still arrive until its FIN. */
  end(): void {
    if (this.closed) return;
    this.#closing = true;
    this.socket.end();
  }

  /**
   * Graceful close: end(), then reset if the peer stays silent for 5 s without ending its side (a peer that
   * keeps sending is read to its end), so that a vanished peer cannot hold the socket for ever.
   */
  close(): void {
    if (this.#gone || this.#linger !== undefined) return;
    this.end();
    const arm = () => {
      if (this.#gone || this.#linger !== undefined) return;
      this.#linger = setTimeout(() => {
        log(
          '%s:%d: peer silent %d ms after our FIN, resetting',
          this.localAddress,
          this.localPort,
          CLOSE_LINGER_MS,
        );
        this.reset();
      }, CLOSE_LINGER_MS);
      this.#linger.unref();
    };
    if (this.socket.writableFinished) arm();
    else this.socket.once('finish', arm);
  }

  /** Closes with RST at once: for failed or abandoned pairs; leaves no TIME_WAIT. Pending writes are dropped. */
  reset(): void {
    if (this.#closeAfterEnd) {
      // the socket is gone already; only the frames held for the reader were left
      this.#closeAfterEnd = false;
      this.#queued.clear();
      this.emit('close', false);
      return;
    }
    if (this.#gone) return;
    this.#closing = true;
    this.#deframer.halt();
    this.#queued.clear();
    discardSocket(this.socket);
  }

  /**
   * Stops cutting frames for good: what the peer sent and sends is dropped unread (the rest of the chunk being
   * cut included), while what we wrote still goes out. For a connection that can only wait for its reset, such
   * as a stranger answered 401: its junk must cost nothing more. The socket is still read (and what it reads
   * dropped), so that the peer's FIN or RST closes it at once rather than when its reset is due.
   */
  discardInput(): void {
    this.#deframer.halt();
    this.#queued.clear();
  }

  /**
   * Whole frames go to the listener as they are cut (queued only behind a pause()), so that a listener that
   * gives up on the connection (reset(), discardInput()) stops the cut there: a stranger's 64 KiB of junk is
   * then one frame's work, not thousands of frames allocated, queued and dropped.
   */
  readonly #direct: FrameSink = {
    frame: (frame) => {
      if (this.#paused || this.#queued.length > 0) this.#queued.push(frame);
      else this.emit('frame', frame);
    },
    bytes: () => {},
    streams: () => false,
  };

  #onData(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    this.#linger?.refresh();
    try {
      this.#deframer.pushTo(chunk, this.#sink ?? this.#direct);
    } catch (error) {
      // a listener's own exception is not a framing failure: it propagates, as from any event handler
      if (!(error instanceof FrameTooLargeError)) throw error;
      this.#fail(error);
      return;
    }
    this.#deliverQueued();
  }

  #deliverQueued(): void {
    // A 'frame' listener may call pause(): re-check before every frame.
    while (!this.#paused && this.#queued.length > 0) {
      const queued = this.#queued;
      const piece = queued.headIsPiece;
      const item = queued.shift();
      if (item === undefined) break;
      if (piece) this.emit('bytes', item);
      else this.emit('frame', item);
    }
    if (this.#paused && this.#queued.length > 0) this.socket.pause();
    this.#maybeEmitEnd();
  }

  #onEnd(): void {
    try {
      this.#deframer.end();
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#peerEnded = true;
    this.#maybeEmitEnd();
  }

  /** 'end' comes after the last frame, which may still be queued behind a pause(). */
  #maybeEmitEnd(): void {
    if (!this.#peerEnded || this.#endEmitted || this.#queued.length > 0) return;
    if (this.#gone && !this.#closeAfterEnd) return;
    this.#endEmitted = true;
    this.emit('end');
    if (this.#closeAfterEnd) {
      this.#closeAfterEnd = false;
      this.emit('close', false);
    } else if (!this.#halfOpen) this.end();
  }

  #fail(error: unknown): void {
    const iceError = wrapError(error, 'framing');
    log(
      '%s:%d <- %s:%d: %s, resetting',
      this.localAddress,
      this.localPort,
      this.remoteAddress,
      this.remotePort,
      iceError.message,
    );
    this.#failed = true;
    this.reset();
    this.emit('error', iceError);
  }

  #onSocketError(error: Error): void {
    this.#failed = true;
    this.emit('error', wrapError(error, `connection to ${this.remoteAddress}:${this.remotePort}`));
  }

  #onClose(hadError: boolean): void {
    this.#gone = true;
    clearTimeout(this.#linger);
    const failed = hadError || this.#failed;
    if (!failed && this.#peerEnded && this.#queued.length > 0) {
      // Both FINs went, so the socket closed, but the peer's last frames still wait behind a pause(): they
      // were sent and acknowledged, so they are delivered on resume(), then 'end', then 'close'.
      this.#closeAfterEnd = true;
      return;
    }
    if (this.#queued.length > 0)
      log('dropping %d frames queued while paused: connection closed', this.#queued.length);
    this.#queued.clear();
    this.emit('close', failed);
  }
}

/** Throws InvalidArgumentError unless `value` is a usable frame size limit (1..65535). */
export function assertMaxFrameSize(value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_RFC4571_PAYLOAD) {
    throw new InvalidArgumentError(
      `maxFrameSize must be an integer in 1..${MAX_RFC4571_PAYLOAD}, got ${value}`,
    );
  }
}

/**
 * First in, first out, with an O(1) shift: a read cut into hundreds of small frames (a junk flood) made
 * Array.prototype.shift's moves the largest cost of the read path. Each entry is a whole frame or a piece of a
 * passed-through one, told apart by a flag beside it (a Set of pieces cost a hash per piece on the data path).
 */
class FrameQueue {
  #items: Buffer[] = [];
  #pieces: boolean[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Whether the next {@link shift} returns a piece rather than a whole frame. */
  get headIsPiece(): boolean {
    return this.#pieces[this.#head] === true;
  }

  push(item: Buffer, piece = false): void {
    this.#items.push(item);
    this.#pieces.push(piece);
  }

  shift(): Buffer | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = EMPTY;
    this.#head++;
    if (this.#head === this.#items.length) this.clear();
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#pieces = this.#pieces.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    // truncated, not replaced: the queue empties once per socket read, and two fresh arrays per read are garbage
    this.#items.length = 0;
    this.#pieces.length = 0;
    this.#head = 0;
  }
}

const EMPTY = Buffer.alloc(0);
