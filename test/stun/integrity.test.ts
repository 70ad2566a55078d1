import { createSecretKey } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StunParseError } from '../../src/errors.js';
import {
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../src/stun/index.js';
import { sampleRequest, shortTermPassword } from './vectors.js';

const key = shortTermKey(shortTermPassword);

function signedCheck(): Buffer {
  return new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .username('remote:local')
    .priority(1853824767)
    .iceControlling(0x0123456789abcdefn)
    .useCandidate()
    .build({ integrityKey: key, fingerprint: true });
}

/** Outcome of decoding a damaged message: thrown parse error, or which checks still pass. */
function outcome(buf: Buffer): 'parse-error' | { integrity: boolean; fingerprint: boolean } {
  try {
    const m = StunMessage.decode(buf);
    return { integrity: m.verifyIntegrity(key), fingerprint: m.verifyFingerprint() };
  } catch (error) {
    if (error instanceof StunParseError) return 'parse-error';
    throw error;
  }
}

describe('MESSAGE-INTEGRITY and FINGERPRINT', () => {
  it('a built check verifies with the key and not with another key', () => {
    const m = StunMessage.decode(signedCheck());
    expect(m.verifyIntegrity(key)).toBe(true);
    expect(m.verifyIntegrity(createSecretKey(key))).toBe(true);
    expect(m.verifyIntegrity(shortTermKey('VOkJxbRl1RmTxUk/WvJxBu'))).toBe(false);
    expect(m.verifyFingerprint()).toBe(true);
  });

  it('without the attributes, verification is false, not an error', () => {
    const m = StunMessage.decode(new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build());
    expect(m.hasIntegrity()).toBe(false);
    expect(m.hasFingerprint()).toBe(false);
    expect(m.verifyIntegrity(key)).toBe(false);
    expect(m.verifyFingerprint()).toBe(false);
  });

  for (const [name, original] of [
    ['RFC 5769 §2.1', sampleRequest],
    ['a built check', signedCheck()],
  ] as const) {
    it(`${name}: flipping any bit of any byte breaks integrity or fingerprint or decode`, () => {
      for (let i = 0; i < original.length; i++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const damaged = Buffer.from(original);
          damaged[i] = (damaged[i] ?? 0) ^ mask;
          const result = outcome(damaged);
          if (result === 'parse-error') continue;
          // Damage inside the MESSAGE-INTEGRITY value leaves the HMAC input intact but not the HMAC.
          expect(result.integrity && result.fingerprint, `byte ${i} mask ${mask}`).toBe(false);
          if (i < original.length - 8) expect(result.fingerprint, `fingerprint byte ${i}`).toBe(false);
        }
      }
    });
  }

  it('a message with unknown attributes still verifies; comprehension-required ones are reported', () => {
    const buf = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .username('a:b')
      .add(0x7777, Buffer.from('mystery'))
      .add(0xc057, Buffer.from([1, 2, 3, 4, 5]))
      .add(StunAttr.ConnectionId, Buffer.from([0, 0, 0, 9]))
      .build({ integrityKey: key, fingerprint: true });
    const m = StunMessage.decode(buf);
    expect(m.verifyIntegrity(key)).toBe(true);
    expect(m.verifyFingerprint()).toBe(true);
    expect(m.unknownComprehensionRequired()).toEqual([0x7777]);
    expect(m.get(0x7777)?.toString()).toBe('mystery');
    expect(m.get(0xc057)).toEqual(Buffer.from([1, 2, 3, 4, 5]));
    expect(m.connectionId()).toBe(9);
  });

  it('attributes after MESSAGE-INTEGRITY are ignored, and integrity still covers only what precedes it', () => {
    const signed = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .username('honest:user')
      .build({ integrityKey: key });
    const trailer = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .username('evil:user')
      .priority(1)
      .add(0x7777, Buffer.alloc(0))
      .build()
      .subarray(20);
    const combined = Buffer.concat([signed, trailer]);
    combined.writeUInt16BE(combined.length - 20, 2);
    const m = StunMessage.decode(combined);
    expect(m.username()).toBe('honest:user');
    expect(m.priority()).toBeUndefined();
    expect(m.unknownComprehensionRequired()).toEqual([]);
    expect(m.attributes.map((a) => a.type)).toEqual([StunAttr.Username, StunAttr.MessageIntegrity]);
    expect(m.verifyIntegrity(key)).toBe(true);
  });

  it('MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY is kept and FINGERPRINT still verifies', () => {
    const withSha = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .username('a:b')
      .build({ integrityKey: key });
    const tail = Buffer.alloc(4 + 32 + 8);
    tail.writeUInt16BE(StunAttr.MessageIntegritySha256, 0);
    tail.writeUInt16BE(32, 2);
    const combined = Buffer.concat([withSha, tail]);
    combined.writeUInt16BE(combined.length - 20, 2);
    const fpAt = combined.length - 8;
    combined.writeUInt16BE(StunAttr.Fingerprint, fpAt);
    combined.writeUInt16BE(4, fpAt + 2);
    combined.writeUInt32BE((crc32(combined.subarray(0, fpAt)) ^ 0x5354554e) >>> 0, fpAt + 4);
    const m = StunMessage.decode(combined);
    expect(m.get(StunAttr.MessageIntegritySha256)?.length).toBe(32);
    expect(m.verifyIntegrity(key)).toBe(true);
    expect(m.verifyFingerprint()).toBe(true);
  });
});
