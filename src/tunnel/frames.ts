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
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the frames they complete. */
  push(chunk: Buffer): MuxFrame[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: MuxFrame[] = [];
    while (buf.length >= HEADER_SIZE) {
      const type = buf.readUInt8(0);
      const id = buf.readUInt32BE(1);
      const length = buf.readUInt32BE(5);
      if (!expectedLength(type, length)) {
        throw new TunnelError(`tunnel protocol: bad frame (type ${type}, length ${length})`);
      }
      if (id === 0) throw new TunnelError('tunnel protocol: stream id 0');
      if (buf.length < HEADER_SIZE + length) break;
      frames.push({
        type: type as FrameTypeValue,
        id,
        payload: buf.subarray(HEADER_SIZE, HEADER_SIZE + length),
      });
      buf = buf.subarray(HEADER_SIZE + length);
    }
    // keep a copy of the tail only: the frames' payloads are views of this chunk
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return frames;
  }
}
