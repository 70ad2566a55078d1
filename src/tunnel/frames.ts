import { TunnelError } from '../errors.js';

/** Frame types of the tunnel mux (see the README, "Tunnel wire format"). */
export const FrameType = {
  /** Opens stream `id`; data may follow at once, within the initial window. */
  Open: 1,
  /** Bytes of stream `id`, at most {@link MAX_DATA} per frame and never beyond the peer's credit. */
  Data: 2,
  /** Grants the peer `u32` more bytes of credit on stream `id`. */
  Window: 3,
  /** The sender's direction of stream `id` has ended (half-close). */
  Fin: 4,
  /** Stream `id` is aborted in both directions. */
  Rst: 5,
} as const;

/** One of {@link FrameType}'s values. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** type (1) + stream id (4) + payload length (4). */
export const HEADER_SIZE = 9;
/** Largest DATA payload: one RFC 4571 frame of the ICE stream holds a whole mux frame. */
export const MAX_DATA = 65535 - HEADER_SIZE;

/** A decoded mux frame. */
export interface MuxFrame {
  type: FrameTypeValue;
  id: number;
  payload: Buffer;
}

/** Encodes one frame: header and payload in one buffer, so it leaves as one write. */
export function encodeFrame(type: FrameTypeValue, id: number, payload?: Buffer): Buffer {
  const length = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(HEADER_SIZE + length);
  out.writeUInt8(type, 0);
  out.writeUInt32BE(id, 1);
  out.writeUInt32BE(length, 5);
  if (payload) payload.copy(out, HEADER_SIZE);
  return out;
}

/** Encodes a WINDOW frame granting `credit` bytes. */
export function windowFrame(id: number, credit: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(credit, 0);
  return encodeFrame(FrameType.Window, id, payload);
}

function expectedLength(type: number, length: number): boolean {
  switch (type) {
    case FrameType.Data:
      return length >= 1 && length <= MAX_DATA;
    case FrameType.Window:
      return length === 4;
    case FrameType.Open:
    case FrameType.Fin:
    case FrameType.Rst:
      return length === 0;
    default:
      return false;
  }
}

/**
 * Cuts a byte stream into mux frames. A header that cannot be valid (unknown type, a length its type does not
 * allow) throws {@link TunnelError} at once, before any payload is buffered, so memory stays bounded.
 *
 * Payloads are views, copied only where a frame spans chunks: a frame inside one chunk is a view of it, and
 * the bytes of a frame still incomplete are kept as views of their chunks until the chunk that completes it
 * comes, then copied once into a buffer of the frame's own size. A view keeps its chunk alive, and a chunk
 * holds the data of the ICE stream's frames, so what stays alive is at most one chunk more than the frames.
 */
export class FrameParser {
  /** The incomplete frame's bytes, in order, as views of the chunks they came in. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The incomplete frame's full size (header and payload), once its header has arrived. */
  private pendingFrameSize: number | undefined;

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Buffer): MuxFrame[] {
    const frames: MuxFrame[] = [];
    if (chunk.length === 0) return frames;
    let buf = chunk;
    if (this.pendingBytes > 0) {
      buf = this.completePending(chunk, frames);
      if (this.pendingBytes > 0) return frames;
    }
    while (buf.length >= HEADER_SIZE) {
      const size = frameSize(buf);
      if (buf.length < size) {
        // its header is checked: the frame waits for the rest
        this.pendingFrameSize = size;
        break;
      }
      frames.push(frameAt(buf));
      buf = buf.subarray(size);
    }
    if (buf.length > 0) this.keep(buf);
    return frames;
  }

  /** Adds `chunk` to the incomplete frame; returns what follows that frame once complete (`frames` gets it). */
  private completePending(chunk: Buffer, frames: MuxFrame[]): Buffer {
    if (this.pendingFrameSize === undefined) {
      // the header itself was split: the few bytes needed to read it are copied
      const need = HEADER_SIZE - this.pendingBytes;
      if (chunk.length < need) {
        this.keep(chunk);
        return EMPTY;
      }
      this.pendingFrameSize = frameSize(Buffer.concat([...this.pending, chunk.subarray(0, need)]));
    }
    const rest = this.pendingFrameSize - this.pendingBytes;
    if (chunk.length < rest) {
      this.keep(chunk);
      return EMPTY;
    }
    const whole = Buffer.concat([...this.pending, chunk.subarray(0, rest)], this.pendingFrameSize);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFrameSize = undefined;
    frames.push(frameAt(whole));
    return chunk.subarray(rest);
  }

  private keep(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingFrameSize === undefined && this.pendingBytes >= HEADER_SIZE)
      this.pendingFrameSize = frameSize(Buffer.concat(this.pending, HEADER_SIZE));
  }
}

const EMPTY = Buffer.alloc(0);

/** A checked header's frame size (header and payload); throws {@link TunnelError} for a header never valid. */
function frameSize(header: Buffer): number {
  const type = header.readUInt8(0);
  const id = header.readUInt32BE(1);
  const length = header.readUInt32BE(5);
  if (!expectedLength(type, length)) {
    throw new TunnelError(`tunnel protocol: bad frame (type ${type}, length ${length})`);
  }
  if (id === 0) throw new TunnelError('tunnel protocol: stream id 0');
  return HEADER_SIZE + length;
}

/** The frame at the start of `buf`, whose header was checked and whose bytes are all there. */
function frameAt(buf: Buffer): MuxFrame {
  const length = buf.readUInt32BE(5);
  return {
    type: buf.readUInt8(0) as FrameTypeValue,
    id: buf.readUInt32BE(1),
    payload: buf.subarray(HEADER_SIZE, HEADER_SIZE + length),
  };
}
