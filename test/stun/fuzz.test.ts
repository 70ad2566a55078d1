import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StunParseError } from '../../src/errors.js';
import { MAGIC_COOKIE, StunAttr, StunMessage, shortTermKey } from '../../src/stun/index.js';
import { everyAttributeMessage, readEverything } from './fuzz-fixtures.js';
import { sampleIpv4Response, sampleIpv6Response, sampleLongTermRequest, sampleRequest } from './vectors.js';

const key = shortTermKey('fuzz-password-0123456789');

/** Valid messages to mutate: the RFC 5769 vectors plus one carrying every attribute this codec knows. */
const seeds: Buffer[] = [
  sampleRequest,
  sampleIpv4Response,
  sampleIpv6Response,
  sampleLongTermRequest,
  everyAttributeMessage(key),
];

/**
 * Decodes and reads every attribute; returns the kind of outcome. Only decode may throw, and only
 * StunParseError: once a message decoded, no getter may throw on received bytes.
 */
function decodeAndReadEverything(buf: Buffer): 'ok' | 'parse-error' {
  let message: StunMessage;
  try {
    message = StunMessage.decode(buf);
  } catch (error) {
    if (error instanceof StunParseError) return 'parse-error';
    throw error;
  }
  readEverything(message, key);
  return 'ok';
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; value: number }
  | { kind: 'attrLength'; index: number; value: number }
  | { kind: 'flip'; positions: number[]; masks: number[] }
  | { kind: 'append'; bytes: Uint8Array; fixLength: boolean }
  | { kind: 'attrType'; index: number; type: number };

function attributeOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  for (let p = 20; p + 4 <= buf.length; p += 4 + ((buf.readUInt16BE(p + 2) + 3) & ~3)) offsets.push(p);
  return offsets;
}

function mutate(seed: Buffer, mutation: Mutation): Buffer {
  const buf = Buffer.from(seed);
  switch (mutation.kind) {
    case 'truncate':
      return buf.subarray(0, mutation.at % (buf.length + 1));
    case 'length':
      if (buf.length >= 4) buf.writeUInt16BE(mutation.value, 2);
      return buf;
    case 'attrLength': {
      const offsets = attributeOffsets(seed);
      const at = offsets[mutation.index % offsets.length];
      if (at !== undefined) buf.writeUInt16BE(mutation.value, at + 2);
      return buf;
    }
    case 'attrType': {
      const offsets = attributeOffsets(seed);
      const at = offsets[mutation.index % offsets.length];
      if (at !== undefined) buf.writeUInt16BE(mutation.type, at);
      return buf;
    }
    case 'flip':
      if (buf.length === 0) return buf;
      mutation.positions.forEach((p, i) => {
        const at = p % buf.length;
        buf[at] = (buf[at] ?? 0) ^ (mutation.masks[i] ?? 1);
      });
      return buf;
    case 'append': {
      const out = Buffer.concat([buf, mutation.bytes]);
      if (mutation.fixLength && out.length >= 4) out.writeUInt16BE((out.length - 20) & 0xffff, 2);
      return out;
    }
  }
}

const interestingLength = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(0, 1, 3, 4, 8, 12, 16, 20, 24, 32, 0xfffc, 0xffff),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('length' as const), value: interestingLength }),
  fc.record({ kind: fc.constant('attrLength' as const), index: fc.nat(), value: interestingLength }),
  fc.record({
    kind: fc.constant('attrType' as const),
    index: fc.nat(),
    type: fc.constantFrom(...Object.values(StunAttr), 0x7777, 0xc001),
  }),
  fc.record({
    kind: fc.constant('flip' as const),
    positions: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    masks: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 4, maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    bytes: fc.uint8Array({ maxLength: 40 }),
    fixLength: fc.boolean(),
  }),
);

/** A plausible header followed by random attribute bytes, so fuzzing reaches the attribute walk. */
const headerThenNoise = fc
  .tuple(fc.integer({ min: 0, max: 0x3fff }), fc.uint8Array({ maxLength: 120 }))
  .map(([type, body]) => {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    padded.set(body);
    const header = Buffer.alloc(20);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(padded.length, 2);
    header.writeUInt32BE(MAGIC_COOKIE, 4);
    return Buffer.concat([header, padded]);
  });

const input = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 160 }).map((a) => Buffer.from(a)) },
  { weight: 3, arbitrary: headerThenNoise },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([seed, mutations]) => mutations.reduce((buf, m) => mutate(buf, m), seed)),
  },
);

describe('StunMessage.decode under fuzzing', () => {
  it('the seeds themselves decode and every getter works', () => {
    for (const seed of seeds) expect(decodeAndReadEverything(seed)).toBe('ok');
  });

  it('arbitrary and mutated inputs: decode returns or throws StunParseError; getters never throw', () => {
    const outcomes = { ok: 0, 'parse-error': 0 };
    fc.assert(
      fc.property(input, (buf) => {
        outcomes[decodeAndReadEverything(buf)]++;
      }),
      { numRuns: 100_000 },
    );
    // Both outcomes must be reached, or the generators are not exercising the parser.
    expect(outcomes.ok).toBeGreaterThan(1000);
    expect(outcomes['parse-error']).toBeGreaterThan(1000);
  });
});
