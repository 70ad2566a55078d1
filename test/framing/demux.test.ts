import { describe, expect, it } from 'vitest';
import { classifyPayload, isStunFrame } from '../../src/framing/demux.js';
import { stunMessage } from './helpers.js';

describe('classifyPayload (RFC 7983)', () => {
  const expected = (byte: number) =>
    byte <= 3 ? 'stun' : byte >= 20 && byte <= 63 ? 'dtls' : byte >= 128 && byte <= 191 ? 'rtp' : 'data';

  it('classifies every first byte by its range', () => {
    for (let byte = 0; byte < 256; byte++) {
      expect(classifyPayload(Buffer.from([byte, 0, 0]))).toBe(expected(byte));
    }
    expect(classifyPayload(Buffer.from([3]))).toBe('stun');
    expect(classifyPayload(Buffer.from([4]))).toBe('data');
    expect(classifyPayload(Buffer.from([19]))).toBe('data');
    expect(classifyPayload(Buffer.from([20]))).toBe('dtls');
    expect(classifyPayload(Buffer.from([63]))).toBe('dtls');
    expect(classifyPayload(Buffer.from([64]))).toBe('data');
    expect(classifyPayload(Buffer.from([127]))).toBe('data');
    expect(classifyPayload(Buffer.from([128]))).toBe('rtp');
    expect(classifyPayload(Buffer.from([191]))).toBe('rtp');
    expect(classifyPayload(Buffer.from([192]))).toBe('data');
  });

  it('calls an empty frame data', () => {
    expect(classifyPayload(Buffer.alloc(0))).toBe('data');
  });
});

describe('isStunFrame', () => {
  const message = stunMessage(12, { fingerprint: true });

  it('accepts a STUN message ending in a correct FINGERPRINT', () => {
    expect(isStunFrame(message)).toBe(true);
    expect(isStunFrame(stunMessage(0, { fingerprint: true }))).toBe(true);
  });

  it('rejects the same message with any single byte changed', () => {
    for (let i = 0; i < message.length; i++) {
      const changed = Buffer.from(message);
      changed[i] = (changed[i] as number) ^ 0x01;
      expect(isStunFrame(changed), `byte ${i}`).toBe(false);
    }
  });

  it('rejects messages without FINGERPRINT, truncated or with trailing bytes', () => {
    expect(isStunFrame(stunMessage(8))).toBe(false);
    expect(isStunFrame(message.subarray(0, message.length - 1))).toBe(false);
    expect(isStunFrame(Buffer.concat([message, Buffer.alloc(4)]))).toBe(false);
    expect(isStunFrame(message.subarray(0, 27))).toBe(false);
  });

  it('rejects application data that starts like STUN', () => {
    expect(isStunFrame(Buffer.alloc(0))).toBe(false);
    expect(isStunFrame(Buffer.alloc(64))).toBe(false);
    expect(
      isStunFrame(Buffer.from([0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42, ...Array(20).fill(0)])),
    ).toBe(false);
  });
});
