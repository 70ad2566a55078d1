import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  formatNatLine,
  isPrivateAddress,
  natTokens,
  parseNatTokens,
} from '../../src/candidate/nat-profile.js';
import {
  decodeSignalMessage,
  encodeSignalMessage,
  parseDescription,
  SdpLineSignaller,
  type SignalMessage,
} from '../../src/signalling/index.js';

const PWD = 'abcdefghijklmnopqrstuvwx';

describe('x-ice-tcp-nat tokens', () => {
  it('format and parse are inverse for every kind of evidence', () => {
    for (const p of [
      { behindNat: false },
      { behindNat: true, allocation: 'preserving' as const },
      { behindNat: true, mapping: 'edm' as const, allocation: 'random' as const },
      { behindNat: true, mapping: 'edm' as const, allocation: 'sequential' as const, step: 1 },
      { behindNat: true, mapping: 'eim' as const, allocation: 'sequential' as const, step: -3 },
    ]) {
      expect(parseNatTokens(natTokens(p))).toEqual(p);
    }
    expect(natTokens({ behindNat: true, mapping: 'edm', allocation: 'sequential', step: 2 })).toEqual([
      'nat',
      'edm',
      'seq+2',
    ]);
    expect(formatNatLine([])).toBeUndefined();
  });

  it("a peer's odd tokens are ignored, the first of a kind wins, and nothing is an error", () => {
    expect(
      parseNatTokens(['NAT', 'x'.repeat(17), 'seq+999', 'future-token', 'no-nat', 'nat', 'edm', 'eim']),
    ).toEqual({ behindNat: false, mapping: 'edm' });
    expect(parseNatTokens(Array.from({ length: 40 }, () => 'junk').concat('nat'))).toEqual({});
  });

  it('private addresses are those no other network routes to', () => {
    for (const a of ['10.0.1.2', '192.168.1.1', '172.16.0.1', '100.64.0.1', 'fd00::1', 'fe80::1'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['203.0.113.1', '8.8.8.8', '2001:db8::1', 'not-an-ip'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});

describe('the NAT profile in signalling', () => {
  it('the description form reads a=x-ice-tcp-nat; absent is unknown', () => {
    const lines = ['a=ice-ufrag:abcd', `a=ice-pwd:${PWD}`, 'a=x-ice-tcp-nat:nat edm seq+1'];
    expect(parseDescription(lines).nat).toEqual(['nat', 'edm', 'seq+1']);
    expect(parseDescription(lines.slice(0, 2)).nat).toBeUndefined();
  });

  it('the JSON parameters message keeps nat tokens, drops odd ones, and refuses a non-array', () => {
    const m: SignalMessage = { type: 'parameters', ufrag: 'abcd', pwd: PWD, nat: ['nat', 'edm'] };
    expect(decodeSignalMessage(encodeSignalMessage(m))).toEqual(m);
    expect(
      decodeSignalMessage(`{"type":"parameters","ufrag":"abcd","pwd":"${PWD}","nat":["nat",7,"BAD TOKEN"]}`),
    ).toEqual({ type: 'parameters', ufrag: 'abcd', pwd: PWD, nat: ['nat'] });
    expect(() =>
      decodeSignalMessage(`{"type":"parameters","ufrag":"abcd","pwd":"${PWD}","nat":"nat"}`),
    ).toThrow(expect.objectContaining({ code: 'ERR_SIGNALLING' }));
  });

  it('SdpLineSignaller: parameters first, then the NAT line alone once gathering measured it, read back as parameters', async () => {
    const wire = new PassThrough();
    const writer = new SdpLineSignaller(new PassThrough(), wire);
    writer.send({ type: 'parameters', ufrag: 'abcd', pwd: PWD });
    writer.send({ type: 'parameters', ufrag: 'abcd', pwd: PWD, nat: ['nat', 'edm', 'random'] });
    writer.send({ type: 'end-of-candidates' });
    const text = String(wire.read());
    expect(text.match(/a=ice-ufrag/g)).toHaveLength(1);
    expect(text).toContain('a=x-ice-tcp-nat:nat edm random\n');
    const reader = new SdpLineSignaller(new PassThrough().end(text), new PassThrough());
    const got: SignalMessage[] = [];
    reader.onMessage((msg) => got.push(msg));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([
      { type: 'parameters', ufrag: 'abcd', pwd: PWD },
      { type: 'parameters', ufrag: 'abcd', pwd: PWD, nat: ['nat', 'edm', 'random'] },
      { type: 'end-of-candidates' },
    ]);
  });
});
