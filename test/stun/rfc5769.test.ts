import { describe, expect, it } from 'vitest';
import {
  longTermKey,
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../src/stun/index.js';
import {
  longTermTransactionId,
  longTermUsername,
  sampleIpv4Response,
  sampleIpv6Response,
  sampleLongTermRequest,
  sampleRequest,
  shortTermPassword,
  vectorTransactionId,
} from './vectors.js';

const shortKey = shortTermKey(shortTermPassword);
const ipv4 = { family: 4, address: '192.0.2.1', port: 32853 } as const;
const ipv6 = { family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 } as const;

describe('RFC 5769 §2.1 sample request', () => {
  it('decodes, and integrity and fingerprint verify over the received bytes', () => {
    const m = StunMessage.decode(sampleRequest);
    expect(m.method).toBe(StunMethod.Binding);
    expect(m.cls).toBe(StunClass.Request);
    expect(m.isRequest()).toBe(true);
    expect(m.transactionId.equals(vectorTransactionId)).toBe(true);
    expect(m.software()).toBe('STUN test client');
    expect(m.priority()).toBe(0x6e0001ff);
    expect(m.iceControlled()).toBe(0x932ff9b151263b36n);
    expect(m.iceControlling()).toBeUndefined();
    expect(m.username()).toBe('evtj:h6vY');
    expect(m.useCandidate()).toBe(false);
    expect(m.attributes.map((a) => a.type)).toEqual([
      StunAttr.Software,
      StunAttr.Priority,
      StunAttr.IceControlled,
      StunAttr.Username,
      StunAttr.MessageIntegrity,
      StunAttr.Fingerprint,
    ]);
    expect(m.unknownComprehensionRequired()).toEqual([]);
    expect(m.hasIntegrity()).toBe(true);
    expect(m.hasFingerprint()).toBe(true);
    expect(m.verifyIntegrity(shortKey)).toBe(true);
    expect(m.verifyFingerprint()).toBe(true);
    expect(m.verifyIntegrity(shortTermKey('wrong password'))).toBe(false);
  });

  it('is rebuilt byte-exact with 0x20 padding', () => {
    const built = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, vectorTransactionId)
      .software('STUN test client')
      .priority(0x6e0001ff)
      .iceControlled(0x932ff9b151263b36n)
      .username('evtj:h6vY')
      .build({ integrityKey: shortKey, fingerprint: true, padding: 0x20 });
    expect(built.toString('hex')).toBe(sampleRequest.toString('hex'));
  });

  it('with the default zero padding differs from the vector only in padding, MI and FINGERPRINT', () => {
    const built = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, vectorTransactionId)
      .software('STUN test client')
      .priority(0x6e0001ff)
      .iceControlled(0x932ff9b151263b36n)
      .username('evtj:h6vY')
      .build({ integrityKey: shortKey, fingerprint: true });
    expect(built.length).toBe(sampleRequest.length);
    const differing: number[] = [];
    for (let i = 0; i < built.length; i++) if (built[i] !== sampleRequest[i]) differing.push(i);
    const usernamePadding = [73, 74, 75];
    expect(differing.filter((i) => i < 76)).toEqual(usernamePadding);
    const decoded = StunMessage.decode(built);
    expect(decoded.verifyIntegrity(shortKey)).toBe(true);
    expect(decoded.verifyFingerprint()).toBe(true);
  });
});

describe('RFC 5769 §2.2 / §2.3 sample responses', () => {
  for (const [name, vector, address] of [
    ['IPv4', sampleIpv4Response, ipv4],
    ['IPv6', sampleIpv6Response, ipv6],
  ] as const) {
    it(`${name}: decodes XOR-MAPPED-ADDRESS and verifies`, () => {
      const m = StunMessage.decode(vector);
      expect(m.isSuccess()).toBe(true);
      expect(m.method).toBe(StunMethod.Binding);
      expect(m.software()).toBe('test vector');
      expect(m.xorMappedAddress()).toEqual(address);
      expect(m.mappedAddress()).toBeUndefined();
      expect(m.verifyIntegrity(shortKey)).toBe(true);
      expect(m.verifyFingerprint()).toBe(true);
    });

    it(`${name}: is rebuilt byte-exact with 0x20 padding`, () => {
      const built = new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, vectorTransactionId)
        .software('test vector')
        .xorMappedAddress(address)
        .build({ integrityKey: shortKey, fingerprint: true, padding: 0x20 });
      expect(built.toString('hex')).toBe(vector.toString('hex'));
    });
  }
});

describe('RFC 5769 §2.4 sample request with long-term authentication', () => {
  const key = longTermKey(longTermUsername, 'example.org', 'TheMatrIX');

  it('decodes and verifies with MD5(username:realm:password)', () => {
    const m = StunMessage.decode(sampleLongTermRequest);
    expect(m.transactionId.equals(longTermTransactionId)).toBe(true);
    expect(m.username()).toBe(longTermUsername);
    expect(m.nonce()).toBe('f//499k954d6OL34oL9FSTvy64sA');
    expect(m.realm()).toBe('example.org');
    expect(m.verifyIntegrity(key)).toBe(true);
    expect(m.verifyIntegrity(longTermKey(longTermUsername, 'example.org', 'thematrix'))).toBe(false);
    expect(m.hasFingerprint()).toBe(false);
    expect(m.verifyFingerprint()).toBe(false);
  });

  it('is rebuilt byte-exact with the default zero padding', () => {
    const built = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, longTermTransactionId)
      .username(longTermUsername)
      .nonce('f//499k954d6OL34oL9FSTvy64sA')
      .realm('example.org')
      .build({ integrityKey: key });
    expect(built.toString('hex')).toBe(sampleLongTermRequest.toString('hex'));
  });
});
