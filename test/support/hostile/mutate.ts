/**
 * Hostile STUN payloads and RFC 4571 frames for the live fuzz test and bench/hostile.ts: valid ICE messages
 * from a seeded PRNG, mutated the ways real garbage and attacks differ from them, and often re-sealed (a fresh
 * FINGERPRINT, and MESSAGE-INTEGRITY when the key is known) so that the mutation gets past the integrity checks
 * and reaches the code behind them.
 */
import { createHmac } from 'node:crypto';
import { encodeFrame } from '../../../src/framing/index.js';
import {
  StunAttr,
  StunClass,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../../src/stun/index.js';
import { fingerprintOf } from '../../../src/stun/integrity.js';
import { everyAttributeMessage } from '../../stun/fuzz-fixtures.js';
import type { Prng } from './prng.js';

/** What the attacker knows of the victim: nothing, its ufrag (from signalling), or also its password (a peer). */
export interface VictimKnowledge {
  ufrag?: string;
  pwd?: string;
}

const HEADER = 20;
const EDGE_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 12, 19, 20, 21, 24, 0x7fff, 0x8000, 0xfffc, 0xffff];
const ATTRIBUTE_TYPES = [...Object.values(StunAttr), 0x7777, 0xc001, 0x0000, 0xffff, 0x0003, 0x8000];
/** Invalid UTF-8: lone continuation, overlong, surrogate, truncated sequence, bytes never valid. */
const BAD_UTF8 = [
  Buffer.from([0xff, 0xfe, 0xfd]),
  Buffer.from([0x61, 0x80, 0x62]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0x61, 0x3a, 0xe2, 0x82]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
];

function attributeOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  for (let p = HEADER; p + 4 <= buf.length; p += 4 + ((buf.readUInt16BE(p + 2) + 3) & ~3)) offsets.push(p);
  return offsets;
}

/**
 * Recomputes MESSAGE-INTEGRITY (when `key` is given) and FINGERPRINT in place, when the message is still
 * well-formed enough to have them where they belong; a mutated length field is left alone.
 */
export function reseal(buf: Buffer, key: Buffer | undefined): Buffer {
  if (buf.length < HEADER || buf.readUInt16BE(2) !== buf.length - HEADER) return buf;
  const offsets = attributeOffsets(buf);
  for (const at of offsets) {
    const type = buf.readUInt16BE(at);
    const length = buf.readUInt16BE(at + 2);
    if (type === StunAttr.MessageIntegrity && length === 20 && key && at + 24 <= buf.length) {
      buf.writeUInt16BE(at + 24 - HEADER, 2);
      createHmac('sha1', key)
        .update(buf.subarray(0, at))
        .digest()
        .copy(buf, at + 4);
    } else if (type === StunAttr.Fingerprint && length === 4 && at + 8 <= buf.length) {
      buf.writeUInt16BE(at + 8 - HEADER, 2);
      buf.writeUInt32BE(fingerprintOf(buf.subarray(0, at)), at + 4);
    }
  }
  buf.writeUInt16BE(buf.length - HEADER, 2);
  return buf;
}

function randomKey(rng: Prng): Buffer {
  return shortTermKey(`wrong-${rng.next().toString(36)}-password-0123456789`);
}

function username(rng: Prng, who: VictimKnowledge): string {
  if (who.ufrag && rng.chance(0.8))
    return `${who.ufrag}:${rng
      .next()
      .toString(36)
      .slice(0, 4 + rng.below(4))}`;
  return `${rng.next().toString(36)}:${rng.next().toString(36)}`;
}

/** A Binding request as a peer's check looks; signed with the victim's password only when `signed`. */
function checkRequest(rng: Prng, who: VictimKnowledge, signed: boolean): Buffer {
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .username(username(rng, who))
    .priority(rng.next());
  if (rng.chance(0.5)) b.iceControlling(BigInt(rng.next()));
  else b.iceControlled(BigInt(rng.next()));
  if (rng.chance(0.3)) b.useCandidate();
  const key = signed && who.pwd ? shortTermKey(who.pwd) : randomKey(rng);
  return b.build({ integrityKey: key, fingerprint: true });
}

/** A Binding request whose USERNAME is not UTF-8, with a valid FINGERPRINT (issue 8, item 1). */
function badUtf8Request(rng: Prng, who: VictimKnowledge): Buffer {
  const name = Buffer.concat([Buffer.from(who.ufrag ? `${who.ufrag}:` : ''), rng.pick(BAD_UTF8)]);
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request).add(StunAttr.Username, name);
  if (rng.chance(0.5)) b.priority(rng.next());
  if (rng.chance(0.3)) b.software(String.fromCharCode(0xe9));
  return b.build(
    rng.chance(0.5) ? { fingerprint: true } : { integrityKey: randomKey(rng), fingerprint: true },
  );
}

/** An error response whose ERROR-CODE is out of range or whose reason is not UTF-8 (item 2). */
function badErrorResponse(rng: Prng, who: VictimKnowledge): Buffer {
  const value = Buffer.concat([
    Buffer.from([0, 0, rng.pick([0, 1, 2, 7, 9, 0xff]), rng.pick([0, 1, 87, 99, 100, 255])]),
    rng.chance(0.5) ? rng.pick(BAD_UTF8) : Buffer.from('reason'),
  ]);
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.ErrorResponse).add(
    StunAttr.ErrorCode,
    value,
  );
  const key = who.pwd && rng.chance(0.5) ? shortTermKey(who.pwd) : randomKey(rng);
  return b.build({ integrityKey: key, fingerprint: true });
}

function successResponse(rng: Prng, who: VictimKnowledge): Buffer {
  const key = who.pwd && rng.chance(0.5) ? shortTermKey(who.pwd) : randomKey(rng);
  const v4 = rng.chance(0.8);
  return new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse)
    .xorMappedAddress({ family: v4 ? 4 : 6, address: v4 ? '127.0.0.1' : '::1', port: 1 + rng.below(65535) })
    .build({ integrityKey: key, fingerprint: true });
}

/** A request with random attributes (types known and unknown, any length) and a valid FINGERPRINT. */
function randomAttributes(rng: Prng, who: VictimKnowledge): Buffer {
  const b = new StunMessageBuilder(
    rng.chance(0.8) ? StunMethod.Binding : rng.below(0x1000),
    rng.below(4) as StunClass,
  );
  const n = rng.below(9);
  for (let i = 0; i < n; i++)
    b.add(
      rng.pick(ATTRIBUTE_TYPES),
      rng.bytes(rng.chance(0.2) ? rng.pick(EDGE_LENGTHS.filter((l) => l < 600)) : rng.below(40)),
    );
  const key =
    who.pwd && rng.chance(0.3) ? shortTermKey(who.pwd) : rng.chance(0.5) ? randomKey(rng) : undefined;
  return b.build({ integrityKey: key, fingerprint: rng.chance(0.9) });
}

/** A valid message of one of the kinds an ICE-TCP port meets, before mutation. */
export function seedMessage(rng: Prng, who: VictimKnowledge): Buffer {
  switch (rng.below(8)) {
    case 0:
    case 1:
      return checkRequest(rng, who, rng.chance(0.5));
    case 2:
      return badUtf8Request(rng, who);
    case 3:
      return badErrorResponse(rng, who);
    case 4:
      return successResponse(rng, who);
    case 5:
      return everyAttributeMessage(who.pwd && rng.chance(0.5) ? shortTermKey(who.pwd) : randomKey(rng));
    case 6:
      return randomAttributes(rng, who);
    default:
      return new StunMessageBuilder(StunMethod.Binding, StunClass.Indication).build({ fingerprint: true });
  }
}

function interestingLength(rng: Prng): number {
  return rng.chance(0.5) ? rng.pick(EDGE_LENGTHS) : rng.below(0x10000);
}

/** One mutation of a copy of `input` (or none, one time in eight: valid messages are part of the attack). */
export function mutate(rng: Prng, input: Buffer): Buffer {
  const buf = Buffer.from(input);
  const offsets = attributeOffsets(buf);
  const someAttribute = (): number | undefined => (offsets.length > 0 ? rng.pick(offsets) : undefined);
  switch (rng.below(9)) {
    case 0:
      return buf.subarray(0, rng.below(buf.length + 1));
    case 1:
      if (buf.length >= 4) buf.writeUInt16BE(interestingLength(rng), 2);
      return buf;
    case 2: {
      const at = someAttribute();
      if (at !== undefined) buf.writeUInt16BE(interestingLength(rng), at + 2);
      return buf;
    }
    case 3: {
      const at = someAttribute();
      if (at !== undefined) buf.writeUInt16BE(rng.pick(ATTRIBUTE_TYPES), at);
      return buf;
    }
    case 4: {
      const flips = 1 + rng.below(4);
      for (let i = 0; i < flips && buf.length > 0; i++) {
        const at = rng.below(buf.length);
        buf[at] = (buf[at] ?? 0) ^ (1 + rng.below(255));
      }
      return buf;
    }
    case 5: {
      const out = Buffer.concat([buf, rng.bytes(rng.below(41))]);
      if (rng.chance(0.5) && out.length >= 4) out.writeUInt16BE((out.length - HEADER) & 0xffff, 2);
      return out;
    }
    case 6: {
      const at = someAttribute();
      if (at !== undefined) {
        const end = Math.min(buf.length, at + 4 + buf.readUInt16BE(at + 2));
        for (let p = at + 4; p < end; p++) if (rng.chance(0.3)) buf[p] = rng.next() & 0xff;
      }
      return buf;
    }
    case 7: {
      // FINGERPRINT or MESSAGE-INTEGRITY no longer last
      if (offsets.length < 2) return buf;
      const i = rng.below(offsets.length - 1);
      const a = offsets[i] as number;
      const b = offsets[i + 1] as number;
      const end = offsets[i + 2] ?? buf.length;
      return Buffer.concat([buf.subarray(0, a), buf.subarray(b, end), buf.subarray(a, b), buf.subarray(end)]);
    }
    default:
      return buf;
  }
}

/** A hostile STUN-looking payload: a seed message, mutated, re-sealed two times in three. */
export function hostilePayload(rng: Prng, who: VictimKnowledge): Buffer {
  const m = mutate(rng, seedMessage(rng, who));
  if (!rng.chance(0.67)) return m;
  return reseal(m, who.pwd && rng.chance(0.5) ? shortTermKey(who.pwd) : undefined);
}

/**
 * The bytes of one hostile write to a raw port: mostly a framed payload, sometimes a frame whose length lies
 * (longer or shorter than what follows), a zero-length or 64 KiB frame, an unframed STUN message (as to a STUN
 * server), or noise.
 */
export function hostileFrameBytes(rng: Prng, who: VictimKnowledge): Buffer {
  const payload = hostilePayload(rng, who);
  if (rng.chance(0.01)) {
    const frame = Buffer.alloc(2 + 0xffff);
    frame.writeUInt16BE(0xffff, 0);
    payload.copy(frame, 2);
    return rng.chance(0.5) ? frame : frame.subarray(0, 2 + rng.below(0xffff));
  }
  switch (rng.below(11)) {
    case 0:
      return Buffer.from([0, 0]);
    case 1: {
      const frame = encodeFrame(payload);
      frame.writeUInt16BE(interestingLength(rng), 0);
      return frame;
    }
    case 2:
      return payload;
    case 3:
      return rng.bytes(1 + rng.below(64));
    default:
      return encodeFrame(payload);
  }
}
