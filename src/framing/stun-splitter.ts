import { FrameTooLargeError, FrameTruncatedError, InvalidArgumentError, StunParseError } from '../errors.js';
import { PendingBytes } from './pending-bytes.js';

/** RFC 8489 §6.2.2 limits nothing; this default fits any Binding or TURN response seen in practice. */
export const DEFAULT_MAX_STUN_MESSAGE_SIZE = 8192;

const STUN_HEADER_SIZE = 20;
const MAGIC_COOKIE = 0x2112a442;

/** Options of {@link StunStreamSplitter}. */
export interface StunStreamSplitterOptions {
  /** Largest whole message (header included) accepted; default 8192, at least 20. */
  maxMessageSize?: number;
}

/**
 * Total size of the message a 20-byte STUN header announces; throws on a header that cannot
 * start a STUN message, because an unframed stream has no other way to find the next boundary.
 */
function announcedSize(header: Buffer): number {
  if (((header[0] as number) & 0xc0) !== 0)
    throw new StunParseError('first two bits of a STUN message must be 0');
  if (header.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunParseError('magic cookie missing');
  const length = header.readUInt16BE(2);
  if (length % 4 !== 0) throw new StunParseError(`message length ${length} is not a multiple of 4`);
  return STUN_HEADER_SIZE + length;
}

/**
 * Splits an unframed STUN-over-TCP stream (to STUN and TURN servers, RFC 8489 §6.2.2) into whole
 * messages, using the length in each 20-byte header. It validates headers only, not attributes.
 * After an error it stays failed: the message boundaries of the rest of the stream are lost.
 */
export class StunStreamSplitter {
  private readonly maxMessageSize: number;
  /** Size of the message in progress once its header is in, else -1. */
  private expected = -1;
  private readonly pending = new PendingBytes();
  private failure: StunParseError | FrameTooLargeError | undefined;

  constructor(opts: StunStreamSplitterOptions = {}) {
    const max = opts.maxMessageSize ?? DEFAULT_MAX_STUN_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < STUN_HEADER_SIZE) {
      throw new InvalidArgumentError(`maxMessageSize must be an integer >= ${STUN_HEADER_SIZE}, got ${max}`);
    }
    this.maxMessageSize = max;
  }

  /** Bytes of an unfinished message held until more data arrives. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Feed received bytes; returns the messages they complete, in order (views when not split). */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const messages: Buffer[] = [];
    let offset = 0;
    for (;;) {
      if (this.expected < 0) {
        const have = this.pending.length;
        if (have === 0 && chunk.length - offset >= STUN_HEADER_SIZE) {
          this.expected = this.checkedSize(chunk.subarray(offset, offset + STUN_HEADER_SIZE));
        } else {
          const take = Math.min(STUN_HEADER_SIZE - have, chunk.length - offset);
          this.pending.append(chunk.subarray(offset, offset + take));
          offset += take;
          if (this.pending.length < STUN_HEADER_SIZE) break;
          // The header is tiny: join it now so it can be read, and keep it as the first piece.
          const header = this.pending.take();
          this.pending.append(header);
          this.expected = this.checkedSize(header);
        }
      }
      const needed = this.expected - this.pending.length;
      const available = chunk.length - offset;
      if (available < needed) {
        this.pending.append(chunk.subarray(offset));
        break;
      }
      const tail = chunk.subarray(offset, offset + needed);
      offset += needed;
      if (this.pending.length === 0) {
        messages.push(tail);
      } else {
        this.pending.append(tail);
        messages.push(this.pending.take());
      }
      this.expected = -1;
    }
    return messages;
  }

  /** Declare the end of the stream; throws {@link FrameTruncatedError} if a message was left unfinished. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.pending.length > 0) throw new FrameTruncatedError(this.pending.length);
  }

  private checkedSize(header: Buffer): number {
    try {
      const size = announcedSize(header);
      if (size > this.maxMessageSize) throw new FrameTooLargeError(size, this.maxMessageSize);
      return size;
    } catch (error) {
      if (error instanceof StunParseError || error instanceof FrameTooLargeError) {
        this.failure = error;
        this.pending.clear();
        this.expected = -1;
      }
      throw error;
    }
  }
}
