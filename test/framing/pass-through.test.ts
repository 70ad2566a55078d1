import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type FrameSink, isStunFrame, mayBeStunFrame, Rfc4571Deframer } from '../../src/framing/index.js';

/** A Binding request with only FINGERPRINT: the smallest frame isStunFrame accepts. */
function stunFrame(): Buffer {
  const message = Buffer.alloc(28);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt16BE(8, 2);
  message.writeUInt32BE(0x2112a442, 4);
  message.fill(7, 8, 20);
  message.writeUInt16BE(0x8028, 20);
  message.writeUInt16BE(4, 22);
  message.writeUInt32BE((crc32(message.subarray(0, 20)) ^ 0x5354554e) >>> 0, 24);
  return message;
}

function framed(payload: Buffer): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** What the ICE connection's stream mode does: frames that cannot be STUN pass through in pieces. */
function streamingSink(): FrameSink & { frames: Buffer[]; pieces: Buffer[] } {
  const frames: Buffer[] = [];
  const pieces: Buffer[] = [];
  return {
    frames,
    pieces,
    frame: (f) => frames.push(f),
    bytes: (p) => pieces.push(p),
    streams: (firstByte, length, chunk, offset) => !mayBeStunFrame(firstByte, length, chunk, offset),
  };
}

describe('stream frames that start like STUN but are not', () => {
  it('a frame of zeros passes through in pieces, without being held back and copied whole', () => {
    const wire = framed(Buffer.alloc(65535));
    const sink = streamingSink();
    const deframer = new Rfc4571Deframer();
    deframer.pushTo(wire.subarray(0, 40000), sink);
    deframer.pushTo(wire.subarray(40000), sink);
    expect(sink.frames).toHaveLength(0);
    expect(sink.pieces.map((p) => p.length)).toEqual([40000 - 2, 65535 - 39998]);
    expect(sink.pieces[0]?.buffer).toBe(wire.buffer);
  });

  it('a STUN message split across reads still comes whole, and so does a frame whose head is cut short', () => {
    const stun = stunFrame();
    expect(isStunFrame(stun)).toBe(true);
    const sink = streamingSink();
    const deframer = new Rfc4571Deframer();
    const wire = Buffer.concat([framed(stun), framed(Buffer.alloc(100))]);
    deframer.pushTo(wire.subarray(0, 12), sink);
    deframer.pushTo(wire.subarray(12, 34), sink);
    // the second frame's first 8 bytes are not all in yet: it may still be STUN, so it is held
    deframer.pushTo(wire.subarray(34, 36), sink);
    deframer.pushTo(wire.subarray(36), sink);
    expect(sink.frames.map((f) => f.length)).toEqual([28, 100]);
    expect(sink.frames[0]?.equals(stun)).toBe(true);
    expect(sink.pieces).toHaveLength(0);
  });

  it('mayBeStunFrame: the cookie and the STUN length decide when the first 8 bytes are in', () => {
    const stun = stunFrame();
    expect(mayBeStunFrame(0, 28, stun, 0)).toBe(true);
    expect(mayBeStunFrame(0, 29, stun, 0)).toBe(false);
    expect(mayBeStunFrame(0, 65535, Buffer.alloc(16), 0)).toBe(false);
    expect(mayBeStunFrame(0, 65535, Buffer.alloc(16), 9)).toBe(true);
    expect(mayBeStunFrame(0, 65535)).toBe(true);
    expect(mayBeStunFrame(4, 65535)).toBe(false);
  });
});
