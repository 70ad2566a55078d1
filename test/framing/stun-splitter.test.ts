import { describe, expect, it } from 'vitest';
import {
  FrameTooLargeError,
  FrameTruncatedError,
  InvalidArgumentError,
  StunParseError,
} from '../../src/errors.js';
import { StunStreamSplitter } from '../../src/framing/stun-splitter.js';
import { sameFrames, splitAt, stunMessage } from './helpers.js';

function splitAll(pieces: Buffer[], maxMessageSize?: number): Buffer[] {
  const splitter = new StunStreamSplitter({ maxMessageSize });
  const out: Buffer[] = [];
  for (const piece of pieces) {
    out.push(...splitter.push(piece));
    expect(splitter.bufferedBytes).toBeLessThanOrEqual(maxMessageSize ?? 8192);
  }
  splitter.end();
  return out;
}

describe('StunStreamSplitter', () => {
  const messages = [
    stunMessage(0, { seed: 1 }),
    stunMessage(12, { fingerprint: true, seed: 2 }),
    stunMessage(4, { seed: 3 }),
    stunMessage(8192 - 20, { seed: 4 }),
    stunMessage(40, { seed: 5 }),
  ];
  const stream = Buffer.concat(messages);

  it('returns whole messages of one chunk as views', () => {
    const out = new StunStreamSplitter().push(stream);
    expect(out).toEqual(messages);
    for (const message of out) expect(message.buffer).toBe(stream.buffer);
  });

  it('yields the same messages at every split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      if (!sameFrames(splitAll(splitAt(stream, [cut])), messages))
        expect.fail(`wrong messages when cut at ${cut}`);
    }
  });

  it('yields the same messages at every pair of split points of a smaller stream', () => {
    const small = [stunMessage(0, { seed: 1 }), stunMessage(8, { seed: 2 }), stunMessage(4, { seed: 3 })];
    const smallStream = Buffer.concat(small);
    for (let a = 0; a <= smallStream.length; a++) {
      for (let b = a; b <= smallStream.length; b++) {
        expect(splitAll(splitAt(smallStream, [a, b]))).toEqual(small);
      }
    }
  });

  it('yields the same messages from 1-byte chunks', () => {
    expect(sameFrames(splitAll(Array.from(stream, (byte) => Buffer.from([byte]))), messages)).toBe(true);
  });

  const junk: Array<[string, Buffer]> = [
    ['first bits set', Buffer.from(stunMessage(4)).fill(0x40, 0, 1)],
    ['no magic cookie', Buffer.from(stunMessage(4)).fill(0, 4, 5)],
    [
      'length not a multiple of 4',
      (() => {
        const m = Buffer.from(stunMessage(4));
        m.writeUInt16BE(5, 2);
        return m;
      })(),
    ],
    ['HTTP', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
  ];
  it.each(junk)(
    'throws StunParseError on a junk header (%s), even when split, and stays failed',
    (_, bytes) => {
      const splitter = new StunStreamSplitter();
      expect(splitter.push(bytes.subarray(0, 19))).toEqual([]);
      expect(() => splitter.push(bytes.subarray(19))).toThrow(StunParseError);
      expect(splitter.bufferedBytes).toBe(0);
      expect(() => splitter.push(stunMessage(0))).toThrow(StunParseError);
    },
  );

  it('throws FrameTooLargeError for a message above the limit, before buffering its body', () => {
    const splitter = new StunStreamSplitter({ maxMessageSize: 64 });
    expect(splitter.push(stunMessage(44))).toHaveLength(1);
    const big = stunMessage(48);
    expect(() => splitter.push(big.subarray(0, 20))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', length: 68, limit: 64 }),
    );
    expect(splitter.bufferedBytes).toBe(0);
    expect(() => splitter.push(stunMessage(0))).toThrow(FrameTooLargeError);
  });

  it('throws FrameTruncatedError on end() inside a message or a header', () => {
    const body = new StunStreamSplitter();
    body.push(stunMessage(8).subarray(0, 22));
    expect(() => body.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED', buffered: 22 }));

    const header = new StunStreamSplitter();
    header.push(Buffer.from([0, 1, 0]));
    expect(() => header.end()).toThrow(FrameTruncatedError);

    const clean = new StunStreamSplitter();
    clean.push(stunMessage(8));
    expect(() => clean.end()).not.toThrow();
  });

  it('validates maxMessageSize', () => {
    expect(() => new StunStreamSplitter({ maxMessageSize: 19 })).toThrow(InvalidArgumentError);
    expect(() => new StunStreamSplitter({ maxMessageSize: 20.5 })).toThrow(InvalidArgumentError);
    expect(new StunStreamSplitter({ maxMessageSize: 20 }).push(stunMessage(0))).toHaveLength(1);
  });
});
