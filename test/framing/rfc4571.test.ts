import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, FrameTruncatedError, InvalidArgumentError } from '../../src/errors.js';
import { encodeFrame, frameHeader, MAX_FRAME_SIZE, Rfc4571Deframer } from '../../src/framing/rfc4571.js';
import { payload, sameFrames, splitAt } from './helpers.js';

function deframeAll(pieces: Buffer[], maxFrameSize?: number): Buffer[] {
  const deframer = new Rfc4571Deframer({ maxFrameSize });
  const frames: Buffer[] = [];
  for (const piece of pieces) {
    frames.push(...deframer.push(piece));
    expect(deframer.bufferedBytes).toBeLessThanOrEqual((maxFrameSize ?? MAX_FRAME_SIZE) + 2);
  }
  deframer.end();
  return frames;
}

describe('encodeFrame / frameHeader', () => {
  it('prefixes the big-endian length', () => {
    expect(encodeFrame(Buffer.from([1, 2, 3]))).toEqual(Buffer.from([0, 3, 1, 2, 3]));
    expect(encodeFrame(Buffer.alloc(0))).toEqual(Buffer.from([0, 0]));
    expect(frameHeader(0x1234)).toEqual(Buffer.from([0x12, 0x34]));
    expect(encodeFrame(Buffer.alloc(MAX_FRAME_SIZE)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xff]));
  });

  it('refuses payloads above 65535 bytes', () => {
    expect(() => encodeFrame(Buffer.alloc(65536))).toThrow(FrameTooLargeError);
    expect(() => frameHeader(65536)).toThrow(FrameTooLargeError);
    expect(() => frameHeader(-1)).toThrow(InvalidArgumentError);
    expect(() => frameHeader(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('Rfc4571Deframer', () => {
  const payloads = [
    payload(0, 1),
    payload(1, 2),
    payload(300, 3),
    payload(0, 4),
    payload(2, 5),
    payload(MAX_FRAME_SIZE, 6),
  ];
  const stream = Buffer.concat(payloads.map(encodeFrame));

  it('returns every frame of one chunk as views, without copying', () => {
    const frames = new Rfc4571Deframer().push(stream);
    expect(frames).toEqual(payloads);
    for (const frame of frames) expect(frame.buffer).toBe(stream.buffer);
  });

  it('yields the same frames at every split point near a frame boundary, and at a sample inside the big frame', () => {
    // inside the 65535-byte payload every cut takes the same path (wait for the rest): every split point there
    // cost ~40 s of copying under load for nothing more than a sample finds
    const bigStart = stream.length - MAX_FRAME_SIZE;
    const cuts: number[] = [];
    for (let cut = 0; cut <= stream.length; cut++)
      if (cut < bigStart + 64 || cut > stream.length - 64 || cut % 509 === 0) cuts.push(cut);
    for (const cut of cuts) {
      if (!sameFrames(deframeAll(splitAt(stream, [cut])), payloads))
        expect.fail(`wrong frames when cut at ${cut}`);
    }
  });

  it('yields the same frames at every pair of split points of a smaller stream', () => {
    const small = [payload(0, 1), payload(5, 2), payload(1, 3), payload(0, 4), payload(17, 5)];
    const smallStream = Buffer.concat(small.map(encodeFrame));
    for (let a = 0; a <= smallStream.length; a++) {
      for (let b = a; b <= smallStream.length; b++) {
        expect(deframeAll(splitAt(smallStream, [a, b]))).toEqual(small);
      }
    }
  });

  it('yields the same frames from 1-byte chunks', () => {
    const pieces = Array.from(stream, (byte) => Buffer.from([byte]));
    expect(sameFrames(deframeAll(pieces), payloads)).toBe(true);
  });

  it('copies a frame that spans chunks only once it is complete', () => {
    const deframer = new Rfc4571Deframer();
    const whole = encodeFrame(payload(10, 9));
    expect(deframer.push(whole.subarray(0, 5))).toEqual([]);
    expect(deframer.bufferedBytes).toBe(5);
    const [frame] = deframer.push(whole.subarray(5));
    expect(frame).toEqual(payload(10, 9));
    expect(deframer.bufferedBytes).toBe(0);
  });

  it('fails on an oversized length before buffering its body, and stays failed', () => {
    const deframer = new Rfc4571Deframer({ maxFrameSize: 100 });
    const good = encodeFrame(payload(100, 1));
    const bad = encodeFrame(payload(101, 2));
    expect(deframer.push(good)).toEqual([payload(100, 1)]);
    expect(deframer.push(bad.subarray(0, 1))).toEqual([]);
    let caught: unknown;
    try {
      deframer.push(bad.subarray(1));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FrameTooLargeError);
    expect(caught).toMatchObject({ length: 101, limit: 100, code: 'ERR_FRAME_TOO_LARGE' });
    expect(deframer.bufferedBytes).toBe(0);
    expect(() => deframer.push(good)).toThrow(caught as Error);
    expect(() => deframer.push(Buffer.alloc(0))).toThrow(FrameTooLargeError);
  });

  it('reports frames completed before an oversized header in the same chunk only by failing', () => {
    const deframer = new Rfc4571Deframer({ maxFrameSize: 10 });
    expect(() => deframer.push(Buffer.concat([encodeFrame(payload(3, 1)), frameHeader(11)]))).toThrow(
      FrameTooLargeError,
    );
  });

  it('throws FrameTruncatedError on end() with a partial frame or a lone length byte', () => {
    const partial = new Rfc4571Deframer();
    partial.push(encodeFrame(payload(10, 1)).subarray(0, 7));
    expect(() => partial.end()).toThrow(FrameTruncatedError);
    expect(() => partial.end()).toThrow(expect.objectContaining({ buffered: 7 }));

    const lone = new Rfc4571Deframer();
    lone.push(Buffer.from([0]));
    expect(lone.bufferedBytes).toBe(1);
    expect(() => lone.end()).toThrow(FrameTruncatedError);

    const headerOnly = new Rfc4571Deframer();
    headerOnly.push(Buffer.from([0, 4]));
    expect(() => headerOnly.end()).toThrow(FrameTruncatedError);

    const clean = new Rfc4571Deframer();
    clean.push(encodeFrame(payload(10, 1)));
    expect(() => clean.end()).not.toThrow();
  });

  it('halt() from inside a sink stops the cut: the rest of the chunk and later pushes are dropped unread', () => {
    const deframer = new Rfc4571Deframer();
    const seen: number[] = [];
    const sink = {
      frame: (frame: Buffer) => {
        seen.push(frame.length);
        if (seen.length === 2) deframer.halt();
      },
      bytes: () => {},
      streams: () => false,
    };
    // 32,768 empty frames in one 64 KiB read of zeros: halting after two must cut no more of them
    deframer.pushTo(Buffer.concat([encodeFrame(payload(3, 1)), Buffer.alloc(65_536)]), sink);
    expect(seen).toEqual([3, 0]);
    deframer.pushTo(encodeFrame(payload(5, 2)), sink);
    expect(seen).toEqual([3, 0]);
    // a frame left unfinished at the halt is not a truncation: nobody reads the stream any more
    const midFrame = new Rfc4571Deframer();
    midFrame.push(encodeFrame(payload(10, 1)).subarray(0, 7));
    midFrame.halt();
    expect(midFrame.push(encodeFrame(payload(1, 1)))).toEqual([]);
    expect(() => midFrame.end()).not.toThrow();
  });

  it('validates maxFrameSize', () => {
    for (const maxFrameSize of [0, 65536, 1.5, Number.NaN]) {
      expect(() => new Rfc4571Deframer({ maxFrameSize })).toThrow(InvalidArgumentError);
    }
    expect(() => new Rfc4571Deframer({ maxFrameSize: 1 })).not.toThrow();
  });
});
