import { FrameTooLargeError, FrameTruncatedError, InvalidArgumentError } from '../errors.js';
import { PendingBytes } from './pending-bytes.js';

/** Largest payload a 16-bit RFC 4571 length can announce. */
export const MAX_FRAME_SIZE = 65535;

const HEADER_SIZE = 2;

/** The 2-byte big-endian length prefix alone, so a caller can writev header and payload without a copy. */
export function frameHeader(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0) {
    throw new InvalidArgumentError(`frame length must be a non-negative integer, got ${length}`);
  }
  if (length > MAX_FRAME_SIZE) throw new FrameTooLargeError(length, MAX_FRAME_SIZE);
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header.writeUInt16BE(length, 0);
  return header;
}

/** One RFC 4571 frame: length prefix followed by the payload, in a new Buffer. */
export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frameHeader(payload.length).copy(frame, 0);
  payload.copy(frame, HEADER_SIZE);
  return frame;
}

/** Options of {@link Rfc4571Deframer}. */
export interface Rfc4571DeframerOptions {
  /** Largest payload accepted, 1..65535 (default 65535). */
  maxFrameSize?: number;
}

/**
 * Splits a TCP byte stream into RFC 4571 frames. Holds at most maxFrameSize + 2 bytes: an
 * oversized length fails before any of its body is buffered, and the deframer then stays failed,
 * because a stream that lost its framing cannot be resynchronised.
 */
export class Rfc4571Deframer {
  readonly #maxFrameSize: number;
  /** First length byte when the header itself was split, else -1. */
  #headerByte = -1;
  /** Announced payload length of the frame in progress, else -1. */
  #expected = -1;
  readonly #body = new PendingBytes();
  #failure: FrameTooLargeError | undefined;

  constructor(opts: Rfc4571DeframerOptions = {}) {
    const max = opts.maxFrameSize ?? MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_SIZE) {
      throw new InvalidArgumentError(`maxFrameSize must be an integer in 1..${MAX_FRAME_SIZE}, got ${max}`);
    }
    this.#maxFrameSize = max;
  }

  /** Bytes of an unfinished frame (length prefix included) held until more data arrives. */
  get bufferedBytes(): number {
    if (this.#expected >= 0) return HEADER_SIZE + this.#body.length;
    return this.#headerByte >= 0 ? 1 : 0;
  }

  /**
   * Feed received bytes; returns the frames they complete, in order. Frames lying wholly inside
   * `chunk` are views of it; only a frame spread over several chunks is copied.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.#failure) throw this.#failure;
    const frames: Buffer[] = [];
    let offset = 0;
    for (;;) {
      if (this.#expected < 0) {
        const available = chunk.length - offset;
        let length: number;
        if (this.#headerByte >= 0) {
          if (available < 1) break;
          length = (this.#headerByte << 8) | (chunk[offset] as number);
          this.#headerByte = -1;
          offset += 1;
        } else if (available >= HEADER_SIZE) {
          length = chunk.readUInt16BE(offset);
          offset += HEADER_SIZE;
        } else {
          if (available === 1) this.#headerByte = chunk[offset] as number;
          break;
        }
        if (length > this.#maxFrameSize) this.#fail(new FrameTooLargeError(length, this.#maxFrameSize));
        this.#expected = length;
      }
      const needed = this.#expected - this.#body.length;
      const available = chunk.length - offset;
      if (available < needed) {
        this.#body.append(chunk.subarray(offset));
        break;
      }
      const tail = chunk.subarray(offset, offset + needed);
      offset += needed;
      if (this.#body.length === 0) {
        frames.push(tail);
      } else {
        this.#body.append(tail);
        frames.push(this.#body.take());
      }
      this.#expected = -1;
    }
    return frames;
  }

  /** Declare the end of the stream; throws {@link FrameTruncatedError} if a frame was left unfinished. */
  end(): void {
    if (this.#failure) throw this.#failure;
    const buffered = this.bufferedBytes;
    if (buffered > 0) throw new FrameTruncatedError(buffered);
  }

  #fail(error: FrameTooLargeError): never {
    this.#failure = error;
    this.#body.clear();
    this.#expected = -1;
    this.#headerByte = -1;
    throw error;
  }
}
