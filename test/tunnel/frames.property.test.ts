import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TunnelError } from '../../src/errors.js';
import { encodeFrame, FrameParser, FrameType, type MuxFrame } from '../../src/tunnel/frames.js';
import { splitAt } from '../framing/helpers.js';

/** A valid frame of any type, DATA payloads up to 70,000 bytes' worth of the largest allowed. */
const frame = fc.oneof(
  fc.record({ type: fc.constant(FrameType.Open), id: fc.integer({ min: 1, max: 2 ** 32 - 1 }) }),
  fc.record({ type: fc.constant(FrameType.Fin), id: fc.integer({ min: 1, max: 9 }) }),
  fc.record({
    type: fc.constant(FrameType.Data),
    id: fc.integer({ min: 1, max: 9 }),
    size: fc.integer({ min: 1, max: 65_526 }),
    fill: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    type: fc.constant(FrameType.Window),
    id: fc.integer({ min: 1, max: 9 }),
    credit: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  }),
);

function encode(f: { type: number; id: number; size?: number; fill?: number; credit?: number }): Buffer {
  const type = f.type as (typeof FrameType)[keyof typeof FrameType];
  if (type === FrameType.Data) return encodeFrame(type, f.id, Buffer.alloc(f.size ?? 1, f.fill ?? 0));
  if (type === FrameType.Window) {
    const credit = Buffer.alloc(4);
    credit.writeUInt32BE(f.credit ?? 0);
    return encodeFrame(type, f.id, credit);
  }
  return encodeFrame(type, f.id);
}

const summary = (frames: MuxFrame[]) => frames.map((f) => `${f.type}/${f.id}/${f.payload.toString('hex')}`);

describe('tunnel FrameParser', () => {
  it('gives the same frames for any cut of the same bytes', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (frames, raw) => {
        const bytes = Buffer.concat(frames.map(encode));
        const cuts = raw.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b);
        const parser = new FrameParser();
        const got = splitAt(bytes, cuts).flatMap((chunk) => parser.push(chunk));
        const whole = new FrameParser().push(bytes);
        expect(summary(got)).toEqual(summary(whole));
        expect(whole).toHaveLength(frames.length);
      }),
      { numRuns: 2_000 },
    );
  });

  it('throws only TunnelError on arbitrary bytes, in any cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (raw, points) => {
        const bytes = Buffer.from(raw);
        const parser = new FrameParser();
        try {
          for (const chunk of splitAt(
            bytes,
            points.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b),
          ))
            parser.push(chunk);
        } catch (error) {
          expect(error).toBeInstanceOf(TunnelError);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});
