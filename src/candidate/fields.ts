import ipaddr from 'ipaddr.js';
import type { CandidateType, TcpType } from './types.js';

/** RFC 8839 §5.1 foundation: 1..32 ice-chars (ALPHA / DIGIT / `+` / `/`). */
export const FOUNDATION_PATTERN = /^[A-Za-z0-9+/]{1,32}$/;

/** RFC 4566 `token`, the grammar of an extension attribute name. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

/** RFC 4566 `byte-string` minus the separators a candidate line splits on. */
const EXTENSION_VALUE_PATTERN = /^[^\0\r\n \t]+$/;

const CANDIDATE_TYPES: ReadonlySet<string> = new Set<CandidateType>(['host', 'srflx', 'prflx', 'relay']);
const TCP_TYPES: ReadonlySet<string> = new Set<TcpType>(['active', 'passive', 'so']);

/** Largest priority a line may carry (an unsigned 32-bit field in STUN's PRIORITY). */
export const MAX_PRIORITY = 2 ** 32 - 1;

/** True for an integer in min..max. */
export function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** A decimal integer token, or undefined; 10 digits bound it before any range check. */
export function parseDecimal(token: string): number | undefined {
  return /^[0-9]{1,10}$/.test(token) ? Number(token) : undefined;
}

/**
 * A numeric IP in its canonical form, or undefined. IPv4 must be plain dotted decimal (no
 * leading zeros, which some stacks read as octal); IPv6 becomes RFC 5952 compressed lower case.
 * Host names, `.local` mDNS names, brackets and zone ids are refused: ICE-TCP connects to them
 * literally and a name would need a resolver the peer cannot see.
 */
export function canonicalIp(token: string): string | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(token)) return token;
  if (token.includes('%') || !ipaddr.IPv6.isValid(token)) return undefined;
  return ipaddr.IPv6.parse(token).toString();
}

/** True for a known `typ` value. */
export function isCandidateType(token: string): token is CandidateType {
  return CANDIDATE_TYPES.has(token);
}

/** True for a known `tcptype` value. */
export function isTcpType(token: string): token is TcpType {
  return TCP_TYPES.has(token);
}

/** True for a name that may start an extension pair. */
export function isExtensionName(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** True for a value that survives being written into a line and split again. */
export function isExtensionValue(token: string): boolean {
  return EXTENSION_VALUE_PATTERN.test(token);
}
