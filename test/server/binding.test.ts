import { describe, expect, it } from 'vitest';
import { answerBinding } from '../../src/server/index.js';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { bindingRequest, tid } from './client.js';

const source = { family: 4 as const, address: '192.0.2.7', port: 40000 };

function reply(raw: Buffer, ctx: Parameters<typeof answerBinding>[1] = { source }): StunMessage {
  const outcome = answerBinding(raw, ctx);
  if (outcome.kind !== 'reply') throw new Error(`expected a reply, got ${outcome.kind}`);
  return StunMessage.decode(outcome.response);
}

describe('answerBinding', () => {
  it('answers a Binding request with XOR-MAPPED-ADDRESS and FINGERPRINT', () => {
    const request = bindingRequest();
    const answer = reply(request);
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    expect(answer.method).toBe(StunMethod.Binding);
    expect(answer.transactionId.toString('hex')).toBe(tid(request));
    expect(answer.xorMappedAddress()).toEqual(source);
    expect(answer.verifyFingerprint()).toBe(true);
    expect(answer.responseOrigin()).toBeUndefined();
    expect(answer.otherAddress()).toBeUndefined();
  });

  it('adds RESPONSE-ORIGIN, OTHER-ADDRESS and SOFTWARE when given', () => {
    const origin = { family: 4 as const, address: '203.0.113.10', port: 3478 };
    const other = { family: 4 as const, address: '203.0.113.11', port: 3479 };
    const answer = reply(bindingRequest(), { source, origin, other, software: 'ice-tcp test' });
    expect(answer.responseOrigin()).toEqual(origin);
    expect(answer.otherAddress()).toEqual(other);
    expect(answer.software()).toBe('ice-tcp test');
  });

  it('leaves out SOFTWARE, then RESPONSE-ORIGIN and OTHER-ADDRESS, to fit maxResponseSize', () => {
    const origin = { family: 4 as const, address: '203.0.113.10', port: 3478 };
    const other = { family: 4 as const, address: '203.0.113.11', port: 3479 };
    const ctx = { source, origin, other, software: 's'.repeat(100) };
    const request = bindingRequest(); // 28 bytes with FINGERPRINT
    const full = reply(request, ctx);
    expect(full.software()).toBeDefined();
    const noSoftware = reply(request, { ...ctx, maxResponseSize: 100 });
    expect(noSoftware.software()).toBeUndefined();
    expect(noSoftware.otherAddress()).toEqual(other);
    expect(noSoftware.raw.length).toBeLessThanOrEqual(100);
    const core = reply(request, { ...ctx, maxResponseSize: 50 });
    expect(core.otherAddress()).toBeUndefined();
    expect(core.responseOrigin()).toBeUndefined();
    expect(core.xorMappedAddress()).toEqual(source);
    expect(core.verifyFingerprint()).toBe(true);
    // nothing optional left to drop: the mandatory answer is sent, FINGERPRINT only if the request had one
    const bare = new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build();
    const minimal = reply(bare, { ...ctx, maxResponseSize: 20 });
    expect(minimal.xorMappedAddress()).toEqual(source);
    expect(minimal.hasFingerprint()).toBe(false);
    expect(minimal.raw.length).toBe(32);
  });

  it('answers IPv6 sources', () => {
    const v6 = { family: 6 as const, address: '2001:db8::5', port: 1234 };
    expect(reply(bindingRequest(), { source: v6 }).xorMappedAddress()).toEqual(v6);
  });

  it('answers unknown comprehension-required attributes with 420 and UNKNOWN-ATTRIBUTES', () => {
    const request = bindingRequest((b) =>
      b.add(0x7f01, Buffer.alloc(4)).add(0xc001, Buffer.alloc(4)).add(0x0030, Buffer.alloc(0)),
    );
    const answer = reply(request);
    expect(answer.cls).toBe(StunClass.ErrorResponse);
    expect(answer.errorCode()?.code).toBe(420);
    // 0xc001 is comprehension-optional: not listed.
    expect(answer.unknownAttributes()).toEqual([0x7f01, 0x0030]);
    expect(answer.xorMappedAddress()).toBeUndefined();
  });

  it('answers other methods with 400', () => {
    const answer = reply(bindingRequest(() => {}, StunMethod.Allocate));
    expect(answer.cls).toBe(StunClass.ErrorResponse);
    expect(answer.method).toBe(StunMethod.Allocate);
    expect(answer.errorCode()?.code).toBe(400);
  });

  it('ignores indications and responses', () => {
    expect(
      answerBinding(
        bindingRequest(() => {}, StunMethod.Binding, StunClass.Indication),
        { source },
      ).kind,
    ).toBe('ignore');
    expect(
      answerBinding(
        bindingRequest(() => {}, StunMethod.Binding, StunClass.SuccessResponse),
        { source },
      ).kind,
    ).toBe('ignore');
    expect(
      answerBinding(
        bindingRequest(() => {}, StunMethod.Binding, StunClass.ErrorResponse),
        { source },
      ).kind,
    ).toBe('ignore');
  });

  it('calls undecodable bytes and a wrong FINGERPRINT junk', () => {
    expect(answerBinding(Buffer.from('GET / HTTP/1.1\r\n\r\n'), { source }).kind).toBe('junk');
    const request = bindingRequest();
    request[request.length - 1] = (request[request.length - 1] ?? 0) ^ 0xff;
    expect(answerBinding(request, { source }).kind).toBe('junk');
  });
});
