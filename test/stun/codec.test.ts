import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StunParseError } from '../../src/errors.js';
import {
  looksLikeStun,
  MAGIC_COOKIE,
  reasonPhrase,
  STUN_HEADER_LENGTH,
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  stunMessageLength,
  TRANSPORT_TCP,
} from '../../src/stun/index.js';
import { sampleRequest } from './vectors.js';

const tid = Buffer.from('000102030405060708090a0b', 'hex');

function builder(
  method: number = StunMethod.Binding,
  cls: StunClass = StunClass.Request,
): StunMessageBuilder {
  return new StunMessageBuilder(method, cls, tid);
}

/** Raw message with the given attribute bytes after a Binding request header. */
function rawMessage(attributes: Buffer, length = attributes.length): Buffer {
  const header = Buffer.alloc(STUN_HEADER_LENGTH);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt16BE(length, 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  tid.copy(header, 8);
  return Buffer.concat([header, attributes]);
}

function attribute(type: number, value: Buffer, declaredLength = value.length): Buffer {
  const out = Buffer.alloc(4 + ((value.length + 3) & ~3));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(declaredLength, 2);
  value.copy(out, 4);
  return out;
}

function parseError(buf: Buffer): string {
  try {
    StunMessage.decode(buf);
  } catch (error) {
    expect(error).toBeInstanceOf(StunParseError);
    expect((error as StunParseError).code).toBe('ERR_STUN_PARSE');
    return (error as Error).message;
  }
  throw new Error('decode did not throw');
}

describe('message type', () => {
  it('interleaves every method and class and decodes them back', () => {
    for (const method of [...Object.values(StunMethod), 0x000, 0xfff, 0x0ab, 0x5a5]) {
      for (const cls of Object.values(StunClass)) {
        const m = StunMessage.decode(new StunMessageBuilder(method, cls, tid).build());
        expect([m.method, m.cls]).toEqual([method, cls]);
        expect(m.transactionId.equals(tid)).toBe(true);
      }
    }
  });

  it('encodes the RFC 8489 §5 bit layout (0x0111 = Binding error, 0x0113 = Allocate error)', () => {
    expect(builder(StunMethod.Binding, StunClass.ErrorResponse).build().readUInt16BE(0)).toBe(0x0111);
    expect(builder(StunMethod.Allocate, StunClass.ErrorResponse).build().readUInt16BE(0)).toBe(0x0113);
    expect(builder(StunMethod.Binding, StunClass.Indication).build().readUInt16BE(0)).toBe(0x0011);
    expect(builder(StunMethod.ConnectionAttempt, StunClass.Indication).build().readUInt16BE(0)).toBe(0x001c);
    expect(builder(0xfff, StunClass.ErrorResponse).build().readUInt16BE(0)).toBe(0x3fff);
  });

  it('class predicates', () => {
    const m = StunMessage.decode(builder(StunMethod.Data, StunClass.Indication).build());
    expect([m.isIndication(), m.isRequest(), m.isSuccess(), m.isError()]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    const e = StunMessage.decode(builder(StunMethod.Binding, StunClass.ErrorResponse).build());
    expect([e.isIndication(), e.isRequest(), e.isSuccess(), e.isError()]).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it('a random transaction id is 12 bytes and differs between builders', () => {
    const a = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
    const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
    expect(a.transactionId.length).toBe(12);
    expect(a.transactionId.equals(b.transactionId)).toBe(false);
    expect(StunMessage.decode(a.build()).transactionId.equals(a.transactionId)).toBe(true);
  });
});

describe('attribute round trips', () => {
  const addresses = [
    { family: 4, address: '203.0.113.7', port: 9 },
    { family: 4, address: '0.0.0.0', port: 0 },
    { family: 4, address: '255.255.255.255', port: 65535 },
    { family: 6, address: '2001:db8::1', port: 443 },
    { family: 6, address: '::', port: 1 },
    { family: 6, address: 'fe80::aa:bbbb:cc', port: 54321 },
  ] as const;

  for (const a of addresses) {
    it(`every address attribute carries ${a.address}:${a.port}`, () => {
      const m = StunMessage.decode(
        builder()
          .xorMappedAddress(a)
          .mappedAddress(a)
          .xorPeerAddress(a)
          .xorRelayedAddress(a)
          .otherAddress(a)
          .responseOrigin(a)
          .build(),
      );
      expect(m.xorMappedAddress()).toEqual(a);
      expect(m.mappedAddress()).toEqual(a);
      expect(m.xorPeerAddress()).toEqual(a);
      expect(m.xorRelayedAddress()).toEqual(a);
      expect(m.otherAddress()).toEqual(a);
      expect(m.responseOrigin()).toEqual(a);
    });
  }

  it('XOR addresses are actually XORed on the wire', () => {
    const buf = builder().xorMappedAddress({ family: 4, address: '192.0.2.1', port: 32853 }).build();
    expect(buf.subarray(24, 32).toString('hex')).toBe('0001a147e112a643');
  });

  it('IPv6 text comes back in RFC 5952 form', () => {
    const m = StunMessage.decode(
      builder().xorMappedAddress({ family: 6, address: '2001:0DB8:0:0:0:0:0:0001', port: 1 }).build(),
    );
    expect(m.xorMappedAddress()?.address).toBe('2001:db8::1');
  });

  it('ICE attributes', () => {
    const m = StunMessage.decode(
      builder()
        .priority(0xffffffff)
        .useCandidate()
        .iceControlling(0xffffffffffffffffn)
        .iceControlled(0n)
        .build(),
    );
    expect(m.priority()).toBe(0xffffffff);
    expect(m.useCandidate()).toBe(true);
    expect(m.iceControlling()).toBe(0xffffffffffffffffn);
    expect(m.iceControlled()).toBe(0n);
    const empty = StunMessage.decode(builder().build());
    expect([empty.priority(), empty.useCandidate(), empty.iceControlling(), empty.iceControlled()]).toEqual([
      undefined,
      false,
      undefined,
      undefined,
    ]);
  });

  it('text attributes, including non-ASCII and empty', () => {
    const m = StunMessage.decode(
      builder().username('ユーザー:ü').software('ice-tcp 0.1').realm('').nonce('n0nce/+=').build(),
    );
    expect(m.username()).toBe('ユーザー:ü');
    expect(m.software()).toBe('ice-tcp 0.1');
    expect(m.realm()).toBe('');
    expect(m.nonce()).toBe('n0nce/+=');
  });

  it('ERROR-CODE with default and custom reasons', () => {
    for (const code of [300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 446, 447, 486, 487, 500, 508]) {
      const m = StunMessage.decode(
        builder(StunMethod.Binding, StunClass.ErrorResponse).errorCode(code).build(),
      );
      expect(m.errorCode()).toEqual({ code, reason: reasonPhrase(code) });
    }
    const custom = StunMessage.decode(builder().errorCode(699, 'Ünusual').build());
    expect(custom.errorCode()).toEqual({ code: 699, reason: 'Ünusual' });
    expect(reasonPhrase(487)).toBe('Role Conflict');
    expect(reasonPhrase(401)).toBe('Unauthenticated');
    expect(reasonPhrase(599)).toBe('Error 599');
  });

  it('UNKNOWN-ATTRIBUTES, odd and even counts', () => {
    for (const types of [[], [0x7777], [0x0001, 0x7fff, 0x1234]]) {
      expect(StunMessage.decode(builder().unknownAttributes(types).build()).unknownAttributes()).toEqual(
        types,
      );
    }
  });

  it('TURN attributes', () => {
    const payload = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
    const buf = builder(StunMethod.Allocate)
      .requestedTransport(TRANSPORT_TCP)
      .lifetime(600)
      .connectionId(0xdeadbeef)
      .data(payload)
      .build();
    const m = StunMessage.decode(buf);
    expect(m.requestedTransport()).toBe(6);
    expect(m.get(StunAttr.RequestedTransport)?.toString('hex')).toBe('06000000');
    expect(m.lifetime()).toBe(600);
    expect(m.connectionId()).toBe(0xdeadbeef);
    expect(m.data()).toEqual(payload);
    expect(m.unknownComprehensionRequired()).toEqual([]);
  });

  it('raw attributes keep their order, offsets and duplicates; get() returns the first', () => {
    const m = StunMessage.decode(
      builder()
        .add(0x7001, Buffer.from('a'))
        .add(0x7001, Buffer.from('bb'))
        .add(0x8001, Buffer.alloc(0))
        .build(),
    );
    expect(m.attributes.map((a) => [a.type, a.value.toString(), a.offset])).toEqual([
      [0x7001, 'a', 20],
      [0x7001, 'bb', 28],
      [0x8001, '', 36],
    ]);
    expect(m.get(0x7001)?.toString()).toBe('a');
    expect(m.get(0x7002)).toBeUndefined();
    expect(m.unknownComprehensionRequired()).toEqual([0x7001, 0x7001]);
  });

  it('a builder can build more than once, with and without integrity', () => {
    const b = builder().username('x:y');
    const plain = b.build();
    const signed = b.build({ integrityKey: Buffer.from('k'), fingerprint: true });
    expect(plain.length).toBe(28);
    expect(signed.length).toBe(28 + 24 + 8);
    expect(signed.subarray(4, 28).equals(plain.subarray(4, 28))).toBe(true);
  });

  it('grows past its initial buffer', () => {
    const big = Buffer.alloc(5000, 0xab);
    // Each typed adder must write into the grown buffer, not the one it replaced.
    const tie = 0x0102030405060708n;
    const m = StunMessage.decode(
      builder()
        .data(Buffer.alloc(220, 1))
        .username('u')
        .data(Buffer.alloc(230, 2))
        .priority(77)
        .data(Buffer.alloc(500, 3))
        .iceControlling(tie)
        .data(Buffer.alloc(1000, 4))
        .lifetime(5)
        .data(big)
        .username('v')
        .build(),
    );
    expect(m.data()?.equals(Buffer.alloc(220, 1))).toBe(true);
    expect(m.username()).toBe('u');
    expect(m.priority()).toBe(77);
    expect(m.iceControlling()).toBe(tie);
    expect(m.lifetime()).toBe(5);
    expect(m.attributes.at(-1)?.value.toString()).toBe('v');
    expect(m.attributes.at(-2)?.value.equals(big)).toBe(true);
  });
});

describe('decode rejects malformed messages with StunParseError', () => {
  const ok = rawMessage(attribute(StunAttr.Priority, Buffer.from([0, 0, 0, 1])));

  it('accepts the well-formed baseline', () => {
    expect(StunMessage.decode(ok).priority()).toBe(1);
  });

  it('header problems', () => {
    expect(parseError(Buffer.alloc(0))).toMatch(/shorter than a header/);
    expect(parseError(ok.subarray(0, 19))).toMatch(/shorter than a header/);
    for (const first of [0x40, 0x80, 0xc0]) {
      const bad = Buffer.from(ok);
      bad[0] = first;
      expect(parseError(bad)).toMatch(/first two bits/);
    }
    const cookie = Buffer.from(ok);
    cookie[7] = 0x43;
    expect(parseError(cookie)).toMatch(/magic cookie/);
    const odd = Buffer.from(ok);
    odd.writeUInt16BE(6, 2);
    expect(parseError(odd)).toMatch(/multiple of 4/);
    const short = Buffer.from(ok);
    short.writeUInt16BE(4, 2);
    expect(parseError(short)).toMatch(/header announces 4 bytes/);
    expect(parseError(Buffer.concat([ok, Buffer.alloc(4)]))).toMatch(/header announces/);
    expect(parseError(ok.subarray(0, 24))).toMatch(/header announces/);
  });

  it('an attribute running past the end, or a huge attribute length', () => {
    expect(parseError(rawMessage(attribute(0x7777, Buffer.alloc(4), 5)))).toMatch(
      /0x7777 of 5 bytes runs past/,
    );
    expect(parseError(rawMessage(attribute(0x7777, Buffer.alloc(4), 0xffff)))).toMatch(/runs past/);
  });

  it('MESSAGE-INTEGRITY and FINGERPRINT of the wrong size, FINGERPRINT not last', () => {
    expect(parseError(rawMessage(attribute(StunAttr.MessageIntegrity, Buffer.alloc(16))))).toMatch(
      /MESSAGE-INTEGRITY must be 20/,
    );
    expect(parseError(rawMessage(attribute(StunAttr.Fingerprint, Buffer.alloc(8))))).toMatch(
      /FINGERPRINT must be 4/,
    );
    expect(parseError(rawMessage(attribute(StunAttr.MessageIntegritySha256, Buffer.alloc(12))))).toMatch(
      /MESSAGE-INTEGRITY-SHA256/,
    );
    const notLast = rawMessage(
      Buffer.concat([attribute(StunAttr.Fingerprint, Buffer.alloc(4)), attribute(0x8888, Buffer.alloc(0))]),
    );
    expect(parseError(notLast)).toMatch(/FINGERPRINT is not the last/);
  });

  it('bad address family or length', () => {
    const family3 = Buffer.from([0, 3, 0, 1, 1, 2, 3, 4]);
    expect(parseError(rawMessage(attribute(StunAttr.XorMappedAddress, family3)))).toMatch(
      /unknown address family/,
    );
    const v4Long = Buffer.from([0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseError(rawMessage(attribute(StunAttr.MappedAddress, v4Long)))).toMatch(
      /IPv4 address attribute/,
    );
    const v6Short = Buffer.from([0, 2, 0, 1, 1, 2, 3, 4]);
    expect(parseError(rawMessage(attribute(StunAttr.XorPeerAddress, v6Short)))).toMatch(
      /IPv6 address attribute/,
    );
    expect(parseError(rawMessage(attribute(StunAttr.OtherAddress, Buffer.from([0, 1]))))).toMatch(
      /too short/,
    );
  });

  it('fixed-size ICE and TURN attributes of the wrong size', () => {
    for (const type of [
      StunAttr.Priority,
      StunAttr.Lifetime,
      StunAttr.ConnectionId,
      StunAttr.RequestedTransport,
    ]) {
      expect(parseError(rawMessage(attribute(type, Buffer.alloc(8))))).toMatch(/must be 4 bytes/);
    }
    for (const type of [StunAttr.IceControlled, StunAttr.IceControlling]) {
      expect(parseError(rawMessage(attribute(type, Buffer.alloc(4))))).toMatch(/must be 8 bytes/);
    }
    expect(parseError(rawMessage(attribute(StunAttr.UseCandidate, Buffer.alloc(4))))).toMatch(
      /USE-CANDIDATE/,
    );
    expect(parseError(rawMessage(attribute(StunAttr.ErrorCode, Buffer.alloc(3))))).toMatch(/ERROR-CODE/);
    expect(parseError(rawMessage(attribute(StunAttr.UnknownAttributes, Buffer.alloc(3))))).toMatch(
      /odd length/,
    );
    expect(parseError(rawMessage(attribute(StunAttr.Username, Buffer.alloc(513, 0x61))))).toMatch(/USERNAME/);
  });

  it('a non-Buffer input is a parse error, a Uint8Array is accepted', () => {
    expect(() => StunMessage.decode('hello' as unknown as Buffer)).toThrow(StunParseError);
    expect(StunMessage.decode(new Uint8Array(sampleRequest) as Buffer).username()).toBe('evtj:h6vY');
  });
});

describe('received text and error codes never make a getter throw', () => {
  it('USERNAME, REALM or NONCE that is not UTF-8 makes the message unparseable at decode', () => {
    const bad = Buffer.from([0x61, 0xff, 0xfe]);
    for (const type of [StunAttr.Username, StunAttr.Realm, StunAttr.Nonce]) {
      expect(() => StunMessage.decode(rawMessage(attribute(type, bad)))).toThrow(StunParseError);
    }
    // A literal U+FFFD is valid UTF-8 and must survive.
    const replacement = StunMessage.decode(builder().username('a\ufffdb').build());
    expect(replacement.username()).toBe('a\ufffdb');
  });

  it('SOFTWARE and the ERROR-CODE reason that are not UTF-8 decode leniently', () => {
    const m = StunMessage.decode(rawMessage(attribute(StunAttr.Software, Buffer.from([0x61, 0xff, 0xfe]))));
    expect(m.software()).toBe('a\ufffd\ufffd');
    const e = StunMessage.decode(
      rawMessage(attribute(StunAttr.ErrorCode, Buffer.from([0, 0, 4, 1, 0x61, 0xff]))),
    );
    expect(e.errorCode()).toEqual({ code: 401, reason: 'a\ufffd' });
  });

  it('control characters in a reason phrase or SOFTWARE never reach the caller (no terminal escapes)', () => {
    const esc = Buffer.from('a\u001b[2Jb\u0007\u009b', 'utf8');
    const e = StunMessage.decode(
      rawMessage(
        attribute(StunAttr.ErrorCode, Buffer.concat([Buffer.from([0, 0, 4, 0]), esc, Buffer.alloc(0)])),
      ),
    );
    expect(e.errorCode()?.reason).toBe('a\ufffd[2Jb\ufffd\ufffd');
    const m = StunMessage.decode(rawMessage(attribute(StunAttr.Software, esc)));
    expect(m.software()).toBe('a\ufffd[2Jb\ufffd\ufffd');
  });

  it('ERROR-CODE with a class outside 3..6 or a number above 99 reads as code 0, unknown error', () => {
    for (const [cls, num] of [
      [2, 0],
      [7, 0],
      [4, 100],
    ]) {
      const m = StunMessage.decode(
        rawMessage(attribute(StunAttr.ErrorCode, Buffer.from([0, 0, cls ?? 0, num ?? 0]))),
      );
      expect(m.errorCode()?.code).toBe(0);
      expect(m.errorCode()?.reason).toMatch(/^unknown error/);
    }
  });
});

describe('builder argument checks throw InvalidArgumentError', () => {
  it.each([
    ['method', () => new StunMessageBuilder(0x1000, StunClass.Request)],
    ['class', () => new StunMessageBuilder(1, 4 as StunClass)],
    ['transaction id', () => new StunMessageBuilder(1, StunClass.Request, Buffer.alloc(11))],
    ['priority', () => builder().priority(-1)],
    ['priority fraction', () => builder().priority(1.5)],
    ['tie-breaker', () => builder().iceControlling(1n << 64n)],
    ['negative tie-breaker', () => builder().iceControlled(-1n)],
    ['error code', () => builder().errorCode(200)],
    ['username length', () => builder().username('x'.repeat(513))],
    ['address family', () => builder().xorMappedAddress({ family: 4, address: '::1', port: 1 })],
    ['address text', () => builder().mappedAddress({ family: 6, address: 'fe80::1%eth0', port: 1 })],
    ['port', () => builder().xorPeerAddress({ family: 4, address: '1.2.3.4', port: 65536 })],
    ['protocol', () => builder().requestedTransport(256)],
    ['lifetime', () => builder().lifetime(2 ** 32)],
    ['attribute type', () => builder().add(0x10000, Buffer.alloc(0))],
    ['attribute too long', () => builder().add(0x7777, Buffer.alloc(0x10000))],
    [
      'message too long',
      () =>
        builder()
          .data(Buffer.alloc(0xfff0))
          .build({ integrityKey: Buffer.from('k') }),
    ],
    ['padding byte', () => builder().build({ padding: 256 })],
  ])('%s', (_name, make) => {
    expect(make).toThrow(InvalidArgumentError);
  });

  it('a failed add leaves the builder usable', () => {
    const b = builder().username('ok');
    expect(() => b.xorMappedAddress({ family: 4, address: 'nope', port: 1 })).toThrow(InvalidArgumentError);
    expect(StunMessage.decode(b.build()).attributes.map((a) => a.type)).toEqual([StunAttr.Username]);
  });
});

describe('looksLikeStun / stunMessageLength', () => {
  it('accepts STUN messages and rejects other first bytes and inconsistent lengths', () => {
    expect(looksLikeStun(sampleRequest)).toBe(true);
    expect(looksLikeStun(sampleRequest.subarray(0, 40))).toBe(false);
    expect(looksLikeStun(Buffer.concat([sampleRequest, Buffer.alloc(4)]))).toBe(false);
    expect(looksLikeStun(Buffer.alloc(0))).toBe(false);
    const dtls = Buffer.from(sampleRequest);
    dtls[0] = 22;
    expect(looksLikeStun(dtls)).toBe(false);
    const cookie = Buffer.from(sampleRequest);
    cookie[4] = 0;
    expect(looksLikeStun(cookie)).toBe(false);
    expect(stunMessageLength(sampleRequest.subarray(0, 20))).toBe(sampleRequest.length);
    expect(stunMessageLength(sampleRequest.subarray(0, 19))).toBeUndefined();
    expect(stunMessageLength(cookie)).toBeUndefined();
  });
});
