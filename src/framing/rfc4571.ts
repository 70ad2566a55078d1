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

/** Receives what {@link Rfc4571Deframer.pushTo} cuts from the stream, in stream order. */
export interface FrameSink {
  /** A whole frame: a view of the chunk when it lies wholly inside it, else one copy. */
  frame(frame: Buffer): void;
  /** A piece of the payload of a frame that `streams` accepted; pieces are views of the chunks, in order. */
  bytes(piece: Buffer): void;
  /**
   * Whether a frame of `length` payload bytes that starts with `firstByte` may be delivered in pieces as
   * they arrive, instead of whole; asked once per non-empty frame, when its first payload byte is in.
   * `chunk[offset]` is that byte, and the frame's bytes that arrived with it follow it in `chunk` (up to
   * `length` of them): enough, most of the time, to rule out a STUN header without waiting for more.
   */
  streams(firstByte: number, length: number, chunk: Buffer, offset: number): boolean;
}

/** Collects whole frames for {@link Rfc4571Deframer.push}. */
class FrameCollector implements FrameSink {
  frames: Buffer[] = [];

  frame(frame: Buffer): void {
    this.frames.push(frame);
  }

  bytes(): void {}

  streams(): boolean {
    return false;
  }
}

/**
 * Splits a TCP byte stream into RFC 4571 frames. Holds at most maxFrameSize + 2 bytes: an
 * oversized length fails before any of its body is buffered, and the deframer then stays failed,
 * because a stream that lost its framing cannot be resynchronised.
 */
export class Rfc4571Deframer {
  private readonly maxFrameSize: number;
  /** First length byte when the header itself was split, else -1. */
  private headerByte = -1;
  /** Announced payload length of the frame in progress, else -1. */
  private expected = -1;
  /** Payload bytes still to come of a frame passed through in pieces (the frame in progress then). */
  private passRemaining = 0;
  private readonly body = new PendingBytes();
  private readonly collector = new FrameCollector();
  private failure: FrameTooLargeError | undefined;
  private halted = false;

  constructor(opts: Rfc4571DeframerOptions = {}) {
    const max = opts.maxFrameSize ?? MAX_FRAME_SIZE;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_SIZE) {
      throw new InvalidArgumentError(`maxFrameSize must be an integer in 1..${MAX_FRAME_SIZE}, got ${max}`);
    }
    this.maxFrameSize = max;
  }

  /** Bytes of an unfinished frame (length prefix included) held until more data arrives. */
  get bufferedBytes(): number {
    if (this.expected >= 0) return HEADER_SIZE + this.body.length;
    return this.headerByte >= 0 ? 1 : 0;
  }

  /**
   * Feed received bytes; returns the frames they complete, in order. Frames lying wholly inside
   * `chunk` are views of it; only a frame spread over several chunks is copied.
   */
  push(chunk: Buffer): Buffer[] {
    const collector = this.collector;
    collector.frames = [];
    this.cut(chunk, collector);
    return collector.frames;
  }

  /**
   * Feed received bytes; hands `sink` the frames they complete, and the pieces of frames it lets through
   * unassembled, in stream order. A byte stream carried in frames needs no reassembly, and reassembling
   * frames that straddle reads would copy nearly every byte once more.
   */
  pushTo(chunk: Buffer, sink: FrameSink): void {
    this.cut(chunk, sink);
  }

  /**
   * Stops cutting, in the middle of a chunk when a sink calls it: the rest of that chunk and everything pushed
   * later is dropped unread. For a reader that gave up on the stream (a stranger's junk, a reset connection):
   * a 64 KiB read of zeros is 32,768 empty frames, and cutting them all costs more than the connection did.
   */
  halt(): void {
    this.halted = true;
    this.body.clear();
    this.expected = -1;
    this.headerByte = -1;
    this.passRemaining = 0;
  }

  /** Declare the end of the stream; throws {@link FrameTruncatedError} if a frame was left unfinished. */
  end(): void {
    if (this.failure) throw this.failure;
    const buffered = this.bufferedBytes;
    if (buffered > 0) throw new FrameTruncatedError(buffered);
    if (this.passRemaining > 0) throw new FrameTruncatedError(0);
  }

  private cut(chunk: Buffer, sink: FrameSink): void {
    if (this.failure) throw this.failure;
    let offset = 0;
    while (!this.halted) {
      if (this.passRemaining > 0) {
        const available = chunk.length - offset;
        if (available === 0) break;
        const take = Math.min(available, this.passRemaining);
        sink.bytes(chunk.subarray(offset, offset + take));
        offset += take;
        this.passRemaining -= take;
        continue;
      }
      if (this.expected < 0) {
        const available = chunk.length - offset;
        let length: number;
        if (this.headerByte >= 0) {
          if (available < 1) break;
          length = (this.headerByte << 8) | (chunk[offset] as number);
          this.headerByte = -1;
          offset += 1;
        } else if (available >= HEADER_SIZE) {
          length = chunk.readUInt16BE(offset);
          offset += HEADER_SIZE;
        } else {
          if (available === 1) this.headerByte = chunk[offset] as number;
          break;
        }
        if (length > this.maxFrameSize) this.fail(new FrameTooLargeError(length, this.maxFrameSize));
        this.expected = length;
      }
      const needed = this.expected - this.body.length;
      const available = chunk.length - offset;
      if (this.body.length === 0 && needed > 0) {
        if (available === 0) break;
        if (sink.streams(chunk[offset] as number, needed, chunk, offset)) {
          this.passRemaining = needed;
          this.expected = -1;
          continue;
        }
      }
      if (available < needed) {
        this.body.append(chunk.subarray(offset));
        break;
      }
      const tail = chunk.subarray(offset, offset + needed);
      offset += needed;
      this.expected = -1;
      if (this.body.length === 0) {
        sink.frame(tail);
      } else {
        this.body.append(tail);
        sink.frame(this.body.take());
      }
    }
  }

  private fail(error: FrameTooLargeError): never {
    this.failure = error;
    this.body.clear();
    this.expected = -1;
    this.headerByte = -1;
    this.passRemaining = 0;
    throw error;
  }
}
