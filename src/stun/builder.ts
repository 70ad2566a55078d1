import { InvalidArgumentError } from '../errors.js';
import { encodeAddress } from './address.js';
import {
  encodeMessageType,
  MAGIC_COOKIE,
  STUN_HEADER_LENGTH,
  StunAttr,
  type StunClass,
  TRANSACTION_ID_LENGTH,
} from './constants.js';
import { fingerprintOf, hmacSha1, type IntegrityKey, writeTransactionId } from './integrity.js';
import { reasonPhrase } from './reason-phrases.js';
import type { TransportAddress } from './types.js';

const MAX_ATTRIBUTES_LENGTH = 0xfffc; // the 16-bit length field, kept a multiple of 4
const INTEGRITY_ATTRIBUTE_LENGTH = 24;
const FINGERPRINT_ATTRIBUTE_LENGTH = 8;
const MAX_UINT32 = 0xffffffff;
/** Enough for a connectivity check; bigger messages grow the buffer. */
const INITIAL_CAPACITY = 128;

/** Options for {@link StunMessageBuilder.build}. */
export interface StunBuildOptions {
  /** Appends MESSAGE-INTEGRITY (HMAC-SHA1) keyed by this key. */
  integrityKey?: IntegrityKey;
  /** Appends FINGERPRINT, after MESSAGE-INTEGRITY. */
  fingerprint?: boolean;
  /** Byte used to pad attribute values to 4 bytes (default 0; RFC 5769 vectors 2.1-2.3 use 0x20). */
  padding?: number;
}

const SHORT_TEXT = 128;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer 0..${max}, got ${value}`);
  }
}

function checkTextLength(name: string, text: string, maxBytes: number): number {
  const length = Buffer.byteLength(text, 'utf8');
  if (length > maxBytes) throw new InvalidArgumentError(`${name} of ${length} bytes exceeds ${maxBytes}`);
  return length;
}

/** Overwrites the padding after each attribute value in `buf[20, end)` with `byte`. */
function fillPadding(buf: Buffer, end: number, byte: number): void {
  for (let p = STUN_HEADER_LENGTH; p < end; ) {
    const valueEnd = p + 4 + buf.readUInt16BE(p + 2);
    const next = p + 4 + ((buf.readUInt16BE(p + 2) + 3) & ~3);
    buf.fill(byte, valueEnd, next);
    p = next;
  }
}

/** Fluent STUN encoder writing attributes straight into one growing buffer; `build()` adds MESSAGE-INTEGRITY and FINGERPRINT last. */
export class StunMessageBuilder {
  /** The 12-byte transaction id (random unless one was given). */
  readonly transactionId: Buffer;

  private buf: Buffer;
  private pos: number;
  /**
   * `buf` was handed out by `build()`: the next write must go to a copy. Building in place saves an
   * allocation and a copy per message, which is a good part of the codec's cost over the HMAC.
   */
  private shared = false;

  /** Without `transactionId`, a fresh random one is drawn. */
  constructor(method: number, cls: StunClass, transactionId?: Buffer) {
    checkUint('method', method, 0xfff);
    checkUint('class', cls, 3);
    if (
      transactionId !== undefined &&
      (!Buffer.isBuffer(transactionId) || transactionId.length !== TRANSACTION_ID_LENGTH)
    ) {
      throw new InvalidArgumentError('transaction id must be a 12-byte Buffer');
    }
    const buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    buf.writeUInt16BE(encodeMessageType(method, cls), 0);
    buf.writeUInt16BE(0, 2);
    buf.writeUInt32BE(MAGIC_COOKIE, 4);
    if (transactionId === undefined) {
      writeTransactionId(buf, 8);
      // A view, not a copy: bytes 8..20 are never written again, in this buffer or any that replaces it.
      this.transactionId = buf.subarray(8, STUN_HEADER_LENGTH);
    } else {
      for (let i = 0; i < TRANSACTION_ID_LENGTH; i++) buf[8 + i] = transactionId[i] ?? 0;
      this.transactionId = transactionId;
    }
    this.buf = buf;
    this.pos = STUN_HEADER_LENGTH;
  }

  /** Appends an attribute with a raw value; the caller vouches for its format. */
  add(type: number, value: Buffer): this {
    checkUint('attribute type', type, 0xffff);
    const at = this.reserve(type, value.length);
    value.copy(this.buf, at);
    return this;
  }

  /** USERNAME (at most 512 bytes of UTF-8). */
  username(v: string): this {
    return this.text(StunAttr.Username, 'USERNAME', v, 512);
  }

  /** PRIORITY (32-bit). */
  priority(v: number): this {
    checkUint('PRIORITY', v, MAX_UINT32);
    const at = this.reserve(StunAttr.Priority, 4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  /** USE-CANDIDATE (empty). */
  useCandidate(): this {
    this.reserve(StunAttr.UseCandidate, 0);
    return this;
  }

  /** ICE-CONTROLLING with its 64-bit tie-breaker. */
  iceControlling(tieBreaker: bigint): this {
    return this.uint64(StunAttr.IceControlling, 'ICE-CONTROLLING', tieBreaker);
  }

  /** ICE-CONTROLLED with its 64-bit tie-breaker. */
  iceControlled(tieBreaker: bigint): this {
    return this.uint64(StunAttr.IceControlled, 'ICE-CONTROLLED', tieBreaker);
  }

  /** XOR-MAPPED-ADDRESS. */
  xorMappedAddress(a: TransportAddress): this {
    return this.add(StunAttr.XorMappedAddress, encodeAddress(a, this.transactionId));
  }

  /** MAPPED-ADDRESS. */
  mappedAddress(a: TransportAddress): this {
    return this.add(StunAttr.MappedAddress, encodeAddress(a));
  }

  /** XOR-PEER-ADDRESS. */
  xorPeerAddress(a: TransportAddress): this {
    return this.add(StunAttr.XorPeerAddress, encodeAddress(a, this.transactionId));
  }

  /** XOR-RELAYED-ADDRESS. */
  xorRelayedAddress(a: TransportAddress): this {
    return this.add(StunAttr.XorRelayedAddress, encodeAddress(a, this.transactionId));
  }

  /** OTHER-ADDRESS. */
  otherAddress(a: TransportAddress): this {
    return this.add(StunAttr.OtherAddress, encodeAddress(a));
  }

  /** RESPONSE-ORIGIN. */
  responseOrigin(a: TransportAddress): this {
    return this.add(StunAttr.ResponseOrigin, encodeAddress(a));
  }

  /** ERROR-CODE, code 300..699; the reason defaults to the standard phrase. */
  errorCode(code: number, reason: string = reasonPhrase(code)): this {
    if (!Number.isInteger(code) || code < 300 || code > 699) {
      throw new InvalidArgumentError(`error code must be an integer 300..699, got ${code}`);
    }
    const length = checkTextLength('ERROR-CODE reason', reason, 763);
    const at = this.reserve(StunAttr.ErrorCode, 4 + length);
    this.buf.writeUInt16BE(0, at);
    this.buf[at + 2] = Math.floor(code / 100);
    this.buf[at + 3] = code % 100;
    this.buf.write(reason, at + 4, 'utf8');
    return this;
  }

  /** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9). */
  unknownAttributes(types: number[]): this {
    for (const type of types) checkUint('attribute type', type, 0xffff);
    const at = this.reserve(StunAttr.UnknownAttributes, 2 * types.length);
    for (let i = 0; i < types.length; i++) this.buf.writeUInt16BE(types[i] ?? 0, at + 2 * i);
    return this;
  }

  /** SOFTWARE (at most 763 bytes of UTF-8). */
  software(v: string): this {
    return this.text(StunAttr.Software, 'SOFTWARE', v, 763);
  }

  /** REALM (at most 763 bytes of UTF-8). */
  realm(v: string): this {
    return this.text(StunAttr.Realm, 'REALM', v, 763);
  }

  /** NONCE (at most 763 bytes of UTF-8). */
  nonce(v: string): this {
    return this.text(StunAttr.Nonce, 'NONCE', v, 763);
  }

  /** LIFETIME in seconds. */
  lifetime(seconds: number): this {
    return this.uint32(StunAttr.Lifetime, 'LIFETIME', seconds);
  }

  /** CONNECTION-ID (RFC 6062). */
  connectionId(id: number): this {
    return this.uint32(StunAttr.ConnectionId, 'CONNECTION-ID', id);
  }

  /** REQUESTED-TRANSPORT: protocol number in the first byte, then three zero RFFU bytes (6 = TCP). */
  requestedTransport(protocol: number): this {
    checkUint('REQUESTED-TRANSPORT protocol', protocol, 0xff);
    const at = this.reserve(StunAttr.RequestedTransport, 4);
    this.buf.writeUInt32BE(protocol * 0x1000000, at);
    return this;
  }

  /** DATA. */
  data(v: Buffer): this {
    return this.add(StunAttr.Data, v);
  }

  /** Encodes the message: a new Buffer each call, MESSAGE-INTEGRITY then FINGERPRINT last when asked for. */
  build(options?: StunBuildOptions): Buffer {
    const integrityKey = options?.integrityKey;
    const fingerprint = options?.fingerprint === true;
    const padding = options?.padding ?? 0;
    checkUint('padding byte', padding, 0xff);
    const total =
      this.pos +
      (integrityKey === undefined ? 0 : INTEGRITY_ATTRIBUTE_LENGTH) +
      (fingerprint ? FINGERPRINT_ATTRIBUTE_LENGTH : 0);
    if (total - STUN_HEADER_LENGTH > MAX_ATTRIBUTES_LENGTH) {
      throw new InvalidArgumentError(`message of ${total} bytes exceeds the STUN maximum`);
    }
    let out: Buffer;
    if (padding === 0) {
      this.makeWritable(total);
      out = this.buf;
      this.shared = true;
    } else {
      // Padding changes bytes the builder keeps, so this rare case gets its own copy.
      out = Buffer.allocUnsafe(total);
      this.buf.copy(out, 0, 0, this.pos);
      fillPadding(out, this.pos, padding);
    }
    let p = this.pos;
    if (integrityKey !== undefined) {
      out.writeUInt16BE(p + INTEGRITY_ATTRIBUTE_LENGTH - STUN_HEADER_LENGTH, 2);
      const mac = hmacSha1(integrityKey, out.subarray(0, p));
      out.writeUInt16BE(StunAttr.MessageIntegrity, p);
      out.writeUInt16BE(mac.length, p + 2);
      out.set(mac, p + 4);
      p += INTEGRITY_ATTRIBUTE_LENGTH;
    }
    if (fingerprint) {
      out.writeUInt16BE(p + FINGERPRINT_ATTRIBUTE_LENGTH - STUN_HEADER_LENGTH, 2);
      const crc = fingerprintOf(out.subarray(0, p));
      out.writeUInt16BE(StunAttr.Fingerprint, p);
      out.writeUInt16BE(4, p + 2);
      out.writeUInt32BE(crc, p + 4);
      p += FINGERPRINT_ATTRIBUTE_LENGTH;
    }
    out.writeUInt16BE(p - STUN_HEADER_LENGTH, 2);
    return out.length === total ? out : out.subarray(0, total);
  }

  /** Makes `buf` hold at least `capacity` bytes and be the builder's own (not handed out by `build()`). */
  private makeWritable(capacity: number): void {
    if (!this.shared && capacity <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(capacity, this.shared ? this.buf.length : this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.shared = false;
  }

  /** Writes an attribute header and zero padding, and returns where the value goes. */
  private reserve(type: number, length: number): number {
    const padded = (length + 3) & ~3;
    const next = this.pos + 4 + padded;
    if (length > 0xffff || next - STUN_HEADER_LENGTH > MAX_ATTRIBUTES_LENGTH) {
      throw new InvalidArgumentError(`attribute 0x${type.toString(16)} of ${length} bytes does not fit`);
    }
    this.makeWritable(next);
    const at = this.pos + 4;
    this.buf.writeUInt16BE(type, this.pos);
    this.buf.writeUInt16BE(length, this.pos + 2);
    for (let i = at + length; i < next; i++) this.buf[i] = 0;
    this.pos = next;
    return at;
  }

  private text(type: number, name: string, value: string, maxBytes: number): this {
    if (value.length <= SHORT_TEXT && isAscii(value)) {
      // Short ASCII (every ICE username) is copied in JS: two native calls cost more than the loop.
      const at = this.reserve(type, value.length);
      for (let i = 0; i < value.length; i++) this.buf[at + i] = value.charCodeAt(i);
      return this;
    }
    const length = checkTextLength(name, value, maxBytes);
    // reserve() may replace this.buf, so it must run before this.buf is read.
    const at = this.reserve(type, length);
    this.buf.write(value, at, 'utf8');
    return this;
  }

  private uint32(type: number, name: string, value: number): this {
    checkUint(name, value, MAX_UINT32);
    const at = this.reserve(type, 4);
    this.buf.writeUInt32BE(value, at);
    return this;
  }

  private uint64(type: number, name: string, value: bigint): this {
    if (typeof value !== 'bigint' || BigInt.asUintN(64, value) !== value) {
      throw new InvalidArgumentError(`${name} tie-breaker must be a bigint 0..2^64-1`);
    }
    const at = this.reserve(type, 8);
    this.buf.writeBigUInt64BE(value, at);
    return this;
  }
}
