import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { StunParseError } from '../errors.js';
import { addressValueProblem, readAddress } from './address.js';
import {
  classOf,
  isComprehensionRequired,
  isKnownAttribute,
  MAGIC_COOKIE,
  methodOf,
  STUN_HEADER_LENGTH,
  StunAttr,
  StunClass,
} from './constants.js';
import { fingerprintOf, hmacSha1, type IntegrityKey } from './integrity.js';
import type { RawAttribute, StunErrorCode, TransportAddress } from './types.js';

const ATTRIBUTE_HEADER_LENGTH = 4;
const HMAC_SHA1_LENGTH = 20;
const MAX_USERNAME_BYTES = 512; // RFC 8489 §14.3: "less than 513 bytes"
const MAX_TEXT_BYTES = 763; // RFC 8489 §14.9, §14.10, §14.14: 128 characters, at most 763 bytes

/** Reused for the length-adjusted copy of the header that MESSAGE-INTEGRITY covers; grown on demand. */
let scratch = Buffer.alloc(512);

function hex(type: number): string {
  return `0x${type.toString(16).padStart(4, '0')}`;
}

/** Why the value of a known attribute is malformed, or `undefined` (decode-time checks, so getters stay cheap). */
function valueProblem(type: number, raw: Buffer, valueOffset: number, length: number): string | undefined {
  switch (type) {
    case StunAttr.MappedAddress:
    case StunAttr.XorMappedAddress:
    case StunAttr.XorPeerAddress:
    case StunAttr.XorRelayedAddress:
    case StunAttr.ResponseOrigin:
    case StunAttr.OtherAddress: {
      const problem = addressValueProblem(raw, valueOffset, length);
      return problem === undefined ? undefined : `${hex(type)}: ${problem}`;
    }
    case StunAttr.Priority:
    case StunAttr.Lifetime:
    case StunAttr.ConnectionId:
    case StunAttr.RequestedTransport:
      return length === 4 ? undefined : `attribute ${hex(type)} must be 4 bytes, got ${length}`;
    case StunAttr.IceControlled:
    case StunAttr.IceControlling:
      return length === 8 ? undefined : `attribute ${hex(type)} must be 8 bytes, got ${length}`;
    case StunAttr.UseCandidate:
      return length === 0 ? undefined : `USE-CANDIDATE must be empty, got ${length} bytes`;
    case StunAttr.ErrorCode:
      return length >= 4 ? undefined : `ERROR-CODE of ${length} bytes is too short`;
    case StunAttr.UnknownAttributes:
      return length % 2 === 0 ? undefined : `UNKNOWN-ATTRIBUTES of odd length ${length}`;
    // USERNAME, REALM and NONCE identify and authenticate: one that is not UTF-8 makes the message unusable,
    // and rejecting it here keeps every getter free of throws on received bytes.
    case StunAttr.Username:
      if (length > MAX_USERNAME_BYTES) return `USERNAME of ${length} bytes exceeds 512`;
      return textProblem(raw, valueOffset, length, 'USERNAME');
    case StunAttr.Realm:
    case StunAttr.Nonce:
      if (length > MAX_TEXT_BYTES) return `attribute ${hex(type)} of ${length} bytes exceeds 763`;
      return textProblem(raw, valueOffset, length, hex(type));
    case StunAttr.Software:
      return length <= MAX_TEXT_BYTES ? undefined : `attribute ${hex(type)} of ${length} bytes exceeds 763`;
    default:
      return undefined;
  }
}

/**
 * Text a peer chose that ends up in logs and error messages (a reason phrase, SOFTWARE): control characters
 * become U+FFFD, so that a hostile peer cannot write terminal escape sequences into the application's output.
 */
function displayText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

function textProblem(raw: Buffer, valueOffset: number, length: number, what: string): string | undefined {
  return isUtf8(raw.subarray(valueOffset, valueOffset + length)) ? undefined : `${what} is not valid UTF-8`;
}

/** A decoded, received STUN message; attribute values are decoded on demand from `raw`. */
export class StunMessage {
  /** The 12-bit method, e.g. {@link StunMethod.Binding}. */
  readonly method: number;
  /** Request, indication, success or error response. */
  readonly cls: StunClass;
  /** The 12-byte transaction id (a view into `raw`). */
  readonly transactionId: Buffer;
  /** The received bytes, exactly one message. */
  readonly raw: Buffer;

  /** Types and header offsets of the attributes that count (ones after MESSAGE-INTEGRITY are ignored). */
  private readonly types: number[];
  private readonly offsets: number[];
  private readonly integrityOffset: number;
  private readonly fingerprintOffset: number;
  private attributeList: RawAttribute[] | undefined;

  private constructor(
    raw: Buffer,
    types: number[],
    offsets: number[],
    integrity: number,
    fingerprint: number,
  ) {
    const type = raw.readUInt16BE(0);
    this.raw = raw;
    this.method = methodOf(type);
    this.cls = classOf(type);
    this.transactionId = raw.subarray(8, STUN_HEADER_LENGTH);
    this.types = types;
    this.offsets = offsets;
    this.integrityOffset = integrity;
    this.fingerprintOffset = fingerprint;
  }

  /** Decodes exactly one message; throws only StunParseError, saying what was wrong. */
  static decode(buf: Buffer): StunMessage {
    const raw = asBuffer(buf);
    if (raw.length < STUN_HEADER_LENGTH)
      throw new StunParseError(`${raw.length} bytes is shorter than a header`);
    if ((raw[0] ?? 0) & 0xc0) throw new StunParseError('the first two bits of the message are not zero');
    if (raw.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunParseError('wrong magic cookie');
    const length = raw.readUInt16BE(2);
    if (length & 3) throw new StunParseError(`message length ${length} is not a multiple of 4`);
    if (STUN_HEADER_LENGTH + length !== raw.length) {
      throw new StunParseError(
        `header announces ${length} bytes of attributes but ${raw.length - 20} were given`,
      );
    }
    const types: number[] = [];
    const offsets: number[] = [];
    let integrity = -1;
    let integritySha256 = -1;
    let fingerprint = -1;
    const end = raw.length;
    for (let p = STUN_HEADER_LENGTH; p < end; ) {
      if (fingerprint >= 0) throw new StunParseError('FINGERPRINT is not the last attribute');
      const type = raw.readUInt16BE(p);
      const len = raw.readUInt16BE(p + 2);
      const next = p + ATTRIBUTE_HEADER_LENGTH + ((len + 3) & ~3);
      if (next > end) throw new StunParseError(`attribute ${hex(type)} of ${len} bytes runs past the end`);
      let counts = integrity < 0 && integritySha256 < 0;
      if (type === StunAttr.Fingerprint) {
        if (len !== 4) throw new StunParseError(`FINGERPRINT must be 4 bytes, got ${len}`);
        fingerprint = p;
        counts = true;
      } else if (type === StunAttr.MessageIntegrity) {
        if (len !== HMAC_SHA1_LENGTH)
          throw new StunParseError(`MESSAGE-INTEGRITY must be 20 bytes, got ${len}`);
        if (counts) integrity = p;
      } else if (type === StunAttr.MessageIntegritySha256) {
        if (len < 16 || len > 32 || len & 3) {
          throw new StunParseError(`MESSAGE-INTEGRITY-SHA256 of ${len} bytes`);
        }
        counts = integritySha256 < 0;
        if (counts) integritySha256 = p;
      } else if (counts) {
        const problem = valueProblem(type, raw, p + ATTRIBUTE_HEADER_LENGTH, len);
        if (problem !== undefined) throw new StunParseError(problem);
      }
      // RFC 8489 §14.5/§14.6: what follows the integrity attributes (except FINGERPRINT) is ignored.
      if (counts) {
        types.push(type);
        offsets.push(p);
      }
      p = next;
    }
    return new StunMessage(raw, types, offsets, integrity, fingerprint);
  }

  /** Every attribute that counts, in order (attributes after MESSAGE-INTEGRITY other than FINGERPRINT are left out). */
  get attributes(): readonly RawAttribute[] {
    if (this.attributeList === undefined) {
      this.attributeList = this.offsets.map((offset, i) => ({
        type: this.types[i] ?? 0,
        value: this.valueAt(offset),
        offset,
      }));
    }
    return this.attributeList;
  }

  /** The value of the first attribute of this type (a view into `raw`). */
  get(type: number): Buffer | undefined {
    const offset = this.find(type);
    return offset < 0 ? undefined : this.valueAt(offset);
  }

  /** Whether the message carries an attribute of this type that counts. */
  has(type: number): boolean {
    return this.find(type) >= 0;
  }

  /** USERNAME (RFC 8489 §14.3). */
  username(): string | undefined {
    return this.text(StunAttr.Username);
  }

  /** PRIORITY (RFC 8445 §16.1). */
  priority(): number | undefined {
    const offset = this.find(StunAttr.Priority);
    return offset < 0 ? undefined : this.raw.readUInt32BE(offset + 4);
  }

  /** Whether USE-CANDIDATE is present (RFC 8445 §16.1). */
  useCandidate(): boolean {
    return this.find(StunAttr.UseCandidate) >= 0;
  }

  /** ICE-CONTROLLING tie-breaker (RFC 8445 §16.1). */
  iceControlling(): bigint | undefined {
    const offset = this.find(StunAttr.IceControlling);
    return offset < 0 ? undefined : this.raw.readBigUInt64BE(offset + 4);
  }

  /** ICE-CONTROLLED tie-breaker (RFC 8445 §16.1). */
  iceControlled(): bigint | undefined {
    const offset = this.find(StunAttr.IceControlled);
    return offset < 0 ? undefined : this.raw.readBigUInt64BE(offset + 4);
  }

  /** XOR-MAPPED-ADDRESS (RFC 8489 §14.2). */
  xorMappedAddress(): TransportAddress | undefined {
    return this.address(StunAttr.XorMappedAddress, true);
  }

  /** MAPPED-ADDRESS (RFC 8489 §14.1). */
  mappedAddress(): TransportAddress | undefined {
    return this.address(StunAttr.MappedAddress, false);
  }

  /** XOR-PEER-ADDRESS (RFC 8656 §18.3). */
  xorPeerAddress(): TransportAddress | undefined {
    return this.address(StunAttr.XorPeerAddress, true);
  }

  /** XOR-RELAYED-ADDRESS (RFC 8656 §18.5). */
  xorRelayedAddress(): TransportAddress | undefined {
    return this.address(StunAttr.XorRelayedAddress, true);
  }

  /** OTHER-ADDRESS (RFC 5780 §7.4). */
  otherAddress(): TransportAddress | undefined {
    return this.address(StunAttr.OtherAddress, false);
  }

  /** RESPONSE-ORIGIN (RFC 5780 §7.3). */
  responseOrigin(): TransportAddress | undefined {
    return this.address(StunAttr.ResponseOrigin, false);
  }

  /**
   * ERROR-CODE (RFC 8489 §14.8). Never throws on received bytes: a class outside 3..6 or a number above 99
   * reads as code 0 ("unknown error"), and a reason phrase that is not UTF-8 is decoded leniently.
   */
  errorCode(): StunErrorCode | undefined {
    const offset = this.find(StunAttr.ErrorCode);
    if (offset < 0) return undefined;
    const errorClass = (this.raw[offset + 6] ?? 0) & 0x07;
    const errorNumber = this.raw[offset + 7] ?? 0;
    const end = offset + 4 + this.raw.readUInt16BE(offset + 2);
    const reason = displayText(this.raw.toString('utf8', offset + 8, end));
    if (errorClass < 3 || errorClass > 6 || errorNumber > 99) {
      return { code: 0, reason: `unknown error (class ${errorClass}, number ${errorNumber}): ${reason}` };
    }
    return { code: errorClass * 100 + errorNumber, reason };
  }

  /** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9). */
  unknownAttributes(): number[] | undefined {
    const value = this.get(StunAttr.UnknownAttributes);
    if (value === undefined) return undefined;
    const types: number[] = [];
    for (let i = 0; i + 1 < value.length; i += 2) types.push(value.readUInt16BE(i));
    return types;
  }

  /** SOFTWARE (RFC 8489 §14.14). */
  software(): string | undefined {
    return this.text(StunAttr.Software);
  }

  /** REALM (RFC 8489 §14.9). */
  realm(): string | undefined {
    return this.text(StunAttr.Realm);
  }

  /** NONCE (RFC 8489 §14.10). */
  nonce(): string | undefined {
    return this.text(StunAttr.Nonce);
  }

  /** LIFETIME in seconds (RFC 8656 §18.2). */
  lifetime(): number | undefined {
    const offset = this.find(StunAttr.Lifetime);
    return offset < 0 ? undefined : this.raw.readUInt32BE(offset + 4);
  }

  /** CONNECTION-ID (RFC 6062 §6.2.1). */
  connectionId(): number | undefined {
    const offset = this.find(StunAttr.ConnectionId);
    return offset < 0 ? undefined : this.raw.readUInt32BE(offset + 4);
  }

  /** REQUESTED-TRANSPORT protocol number (RFC 8656 §18.7): the first byte of the value. */
  requestedTransport(): number | undefined {
    const offset = this.find(StunAttr.RequestedTransport);
    return offset < 0 ? undefined : this.raw[offset + 4];
  }

  /** DATA (RFC 8656 §18.4), a view into `raw`. */
  data(): Buffer | undefined {
    return this.get(StunAttr.Data);
  }

  /** comprehension-required (type < 0x8000) attribute types this codec does not know — RFC 8489 §14 */
  unknownComprehensionRequired(): number[] {
    return this.types.filter((type) => isComprehensionRequired(type) && !isKnownAttribute(type));
  }

  /** Whether a MESSAGE-INTEGRITY attribute counts (one after MESSAGE-INTEGRITY-SHA256 is ignored). */
  hasIntegrity(): boolean {
    return this.integrityOffset >= 0;
  }

  /** Whether the message ends with FINGERPRINT. */
  hasFingerprint(): boolean {
    return this.fingerprintOffset >= 0;
  }

  /**
   * Checks MESSAGE-INTEGRITY: HMAC-SHA1 over the received bytes up to the attribute, with the header
   * length adjusted to end just after it (RFC 8489 §14.5). False when absent or wrong.
   */
  verifyIntegrity(key: IntegrityKey): boolean {
    const at = this.integrityOffset;
    if (at < 0) return false;
    const raw = this.raw;
    const coveredLength = at + ATTRIBUTE_HEADER_LENGTH + HMAC_SHA1_LENGTH - STUN_HEADER_LENGTH;
    let covered: Buffer;
    if (raw.readUInt16BE(2) === coveredLength) {
      covered = raw.subarray(0, at);
    } else {
      // One HMAC update over a patched copy is cheaper than three updates around the length field.
      if (scratch.length < at) scratch = Buffer.alloc(Math.max(at, scratch.length * 2));
      raw.copy(scratch, 0, 0, at);
      scratch.writeUInt16BE(coveredLength, 2);
      covered = scratch.subarray(0, at);
    }
    const expected = hmacSha1(key, covered);
    return timingSafeEqual(expected, raw.subarray(at + 4, at + 4 + HMAC_SHA1_LENGTH));
  }

  /** Checks FINGERPRINT: CRC-32 of the received bytes before it, XOR 0x5354554e. False when absent or wrong. */
  verifyFingerprint(): boolean {
    const at = this.fingerprintOffset;
    if (at < 0) return false;
    return fingerprintOf(this.raw.subarray(0, at)) === this.raw.readUInt32BE(at + 4);
  }

  /** Class is Request. */
  isRequest(): boolean {
    return this.cls === StunClass.Request;
  }

  /** Class is SuccessResponse. */
  isSuccess(): boolean {
    return this.cls === StunClass.SuccessResponse;
  }

  /** Class is ErrorResponse. */
  isError(): boolean {
    return this.cls === StunClass.ErrorResponse;
  }

  /** Class is Indication. */
  isIndication(): boolean {
    return this.cls === StunClass.Indication;
  }

  private find(type: number): number {
    const index = this.types.indexOf(type);
    return index < 0 ? -1 : (this.offsets[index] ?? -1);
  }

  private valueAt(offset: number): Buffer {
    const start = offset + ATTRIBUTE_HEADER_LENGTH;
    return this.raw.subarray(start, start + this.raw.readUInt16BE(offset + 2));
  }

  private text(type: number): string | undefined {
    const offset = this.find(type);
    if (offset < 0) return undefined;
    const start = offset + ATTRIBUTE_HEADER_LENGTH;
    // identity texts were checked at decode and must stay exact (REALM and NONCE are echoed back)
    const text = this.raw.toString('utf8', start, start + this.raw.readUInt16BE(offset + 2));
    return type === StunAttr.Software ? displayText(text) : text;
  }

  private address(type: number, xor: boolean): TransportAddress | undefined {
    const value = this.get(type);
    if (value === undefined) return undefined;
    return readAddress(value, xor ? this.transactionId : undefined);
  }
}

/** Accepts any Uint8Array without copying; anything else is a parse error rather than a TypeError. */
function asBuffer(input: unknown): Buffer {
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new StunParseError('input is not a Buffer');
}
