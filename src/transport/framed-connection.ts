import type { Socket } from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { ClosedError, IceTcpError, InvalidArgumentError } from '../errors.js';
import { frameHeader, Rfc4571Deframer } from '../framing/index.js';
import { discardSocket, toSocketError } from './socket-errors.js';

const log = createDebug('ice-tcp:transport');

/** The largest payload RFC 4571's 16-bit length field can announce. */
export const MAX_RFC4571_PAYLOAD = 0xffff;

/** Up to this size one copy of header + payload is cheaper than a corked two-buffer writev. */
const COPY_THRESHOLD = 2048;

/** After our FIN went out, how long the peer gets to answer with its own before we reset. */
const CLOSE_LINGER_MS = 5000;

/** Options of a {@link FramedConnection}. */
export interface FramedConnectionOptions {
  /** Largest frame accepted from the peer; a larger announced length resets the connection. Default 65535. */
  maxFrameSize?: number;
}

/** Events of a {@link FramedConnection}. */
export type FramedConnectionEvents = {
  frame: [Buffer];
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
  #queued: Buffer[] = [];
  #paused = false;
  #closing = false;
  #gone = false;
  #failed = false;

  constructor(socket: Socket, options: FramedConnectionOptions = {}) {
    super();
    const maxFrameSize = options.maxFrameSize ?? MAX_RFC4571_PAYLOAD;
    assertMaxFrameSize(maxFrameSize);
    this.socket = socket;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.#deframer = new Rfc4571Deframer({ maxFrameSize });
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

  /** True once close() or reset() was called or the socket closed: sendFrame() would throw. */
  get closed(): boolean {
    return this.#closing || this.#gone;
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
    const header = frameHeader(payload.length);
    if (payload.length <= COPY_THRESHOLD) {
      return this.socket.write(Buffer.concat([header, payload], header.length + payload.length));
    }
    // Corked writes leave as one writev: no copy of a large payload, and still one segment train.
    this.socket.cork();
    this.socket.write(header);
    const belowHighWaterMark = this.socket.write(payload);
    this.socket.uncork();
    return belowHighWaterMark;
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

  /** Graceful close: FIN after pending writes flush; resets if the peer does not close its side in time. */
  close(): void {
    if (this.closed) return;
    this.#closing = true;
    this.socket.once('finish', () => {
      const timer = setTimeout(() => discardSocket(this.socket), CLOSE_LINGER_MS);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    });
    this.socket.end();
  }

  /** Closes with RST at once: for failed or abandoned pairs; leaves no TIME_WAIT. Pending writes are dropped. */
  reset(): void {
    if (this.#gone) return;
    this.#closing = true;
    this.#queued = [];
    discardSocket(this.socket);
  }

  #onData(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    let frames: Buffer[];
    try {
      frames = this.#deframer.push(chunk);
    } catch (error) {
      this.#fail(error);
      return;
    }
    for (const frame of frames) this.#queued.push(frame);
    this.#deliverQueued();
  }

  #deliverQueued(): void {
    // A 'frame' listener may call pause(): re-check before every frame.
    while (!this.#paused && this.#queued.length > 0) {
      const frame = this.#queued.shift();
      if (frame !== undefined) this.emit('frame', frame);
    }
    if (this.#paused && this.#queued.length > 0) this.socket.pause();
  }

  #onEnd(): void {
    try {
      this.#deframer.end();
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    const iceError = error instanceof IceTcpError ? error : toSocketError(error, 'framing');
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
    this.emit('error', toSocketError(error, `connection to ${this.remoteAddress}:${this.remotePort}`));
  }

  #onClose(hadError: boolean): void {
    if (this.#queued.length > 0)
      log('dropping %d frames queued while paused: connection closed', this.#queued.length);
    this.#queued = [];
    this.#gone = true;
    this.emit('close', hadError || this.#failed);
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
