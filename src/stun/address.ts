import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidArgumentError, StunParseError } from '../errors.js';
import { MAGIC_COOKIE } from './constants.js';
import type { TransportAddress } from './types.js';

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;
const COOKIE_HIGH_16 = MAGIC_COOKIE >>> 16;

/** Why an address attribute value is malformed, or `undefined` when it is well formed. */
export function addressValueProblem(raw: Buffer, valueOffset: number, length: number): string | undefined {
  if (length < 4) return `address attribute of ${length} bytes is too short`;
  const family = raw[valueOffset + 1];
  if (family === FAMILY_IPV4) return length === 8 ? undefined : `IPv4 address attribute of ${length} bytes`;
  if (family === FAMILY_IPV6) return length === 20 ? undefined : `IPv6 address attribute of ${length} bytes`;
  return `unknown address family 0x${(family ?? 0).toString(16).padStart(2, '0')}`;
}

/**
 * Decodes a (XOR-)address attribute value (RFC 8489 §14.1, §14.2). With `transactionId`, the value
 * is XOR-obfuscated: port and IPv4 with the magic cookie, IPv6 with cookie || transaction id.
 */
export function readAddress(value: Buffer, transactionId?: Buffer): TransportAddress {
  const problem = addressValueProblem(value, 0, value.length);
  if (problem !== undefined) throw new StunParseError(problem);
  const xor = transactionId !== undefined;
  const port = value.readUInt16BE(2) ^ (xor ? COOKIE_HIGH_16 : 0);
  if (value[1] === FAMILY_IPV4) {
    const ip = (value.readUInt32BE(4) ^ (xor ? MAGIC_COOKIE : 0)) >>> 0;
    const address = `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
    return { family: 4, address, port };
  }
  const bytes = new Array<number>(16);
  for (let i = 0; i < 16; i++) bytes[i] = (value[4 + i] ?? 0) ^ (xor ? xorPadByte(i, transactionId) : 0);
  return { family: 6, address: new ipaddr.IPv6(bytes).toRFC5952String(), port };
}

/** Byte `i` of magic cookie || transaction id, the IPv6 XOR pad. */
function xorPadByte(i: number, transactionId: Buffer): number {
  if (i < 4) return (MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff;
  return transactionId[i - 4] ?? 0;
}

/** Address bytes of a numeric IPv4/IPv6 address; throws InvalidArgumentError on anything else. */
function addressBytes(a: TransportAddress): number[] {
  if (a.family === 4) {
    if (!isIPv4(a.address)) throw new InvalidArgumentError(`not a numeric IPv4 address: ${a.address}`);
    return a.address.split('.').map(Number);
  }
  if (a.family === 6) {
    if (!isIPv6(a.address) || a.address.includes('%')) {
      throw new InvalidArgumentError(`not a numeric IPv6 address without zone id: ${a.address}`);
    }
    return ipaddr.IPv6.parse(a.address).toByteArray();
  }
  throw new InvalidArgumentError(`address family must be 4 or 6, got ${String(a.family)}`);
}

/**
 * Encodes an address attribute value, XOR-obfuscated when `transactionId` is given.
 * Throws InvalidArgumentError for a bad address, family or port.
 */
export function encodeAddress(a: TransportAddress, transactionId?: Buffer): Buffer {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new InvalidArgumentError(`port must be an integer 0..65535, got ${a.port}`);
  }
  const bytes = addressBytes(a);
  const xor = transactionId !== undefined;
  const value = Buffer.allocUnsafe(4 + bytes.length);
  value[0] = 0;
  value[1] = a.family === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  value.writeUInt16BE(a.port ^ (xor ? COOKIE_HIGH_16 : 0), 2);
  for (let i = 0; i < bytes.length; i++) {
    value[4 + i] = (bytes[i] ?? 0) ^ (xor ? xorPadByte(i, transactionId) : 0);
  }
  return value;
}
