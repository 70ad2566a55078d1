import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { CandidateType, TcpType } from './types.js';

/** What two candidates must share to share a foundation (RFC 8445 §5.1.1.3). */
export interface FoundationInput {
  type: CandidateType;
  /** IP address of the candidate's base. */
  baseAddress: string;
  /** IP address (or host name, as configured) of the STUN/TURN server that produced it, if any. */
  serverAddress?: string;
  tcpType: TcpType;
}

const FOUNDATION_LENGTH = 8;

/** Equal spellings of one address (`::1`, `0:0::1`) must not split a foundation. */
function canonicalAddress(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.parse(address).toString() : address;
}

/**
 * RFC 8445 §5.1.1.3 foundation: equal for candidates of the same type, base IP, server IP and
 * transport. tcpType is part of the key because RFC 6544 §4.4 pairs by direction, and frozen pairs
 * are unfrozen per foundation. The result is a hash prefix in base64, whose alphabet
 * (ALPHA / DIGIT / `+` / `/`) is exactly the ice-char set.
 */
export function computeFoundation({ type, baseAddress, serverAddress, tcpType }: FoundationInput): string {
  const key = JSON.stringify([
    type,
    canonicalAddress(baseAddress),
    serverAddress === undefined ? '' : canonicalAddress(serverAddress),
    'TCP',
    tcpType,
  ]);
  return createHash('sha256').update(key).digest('base64').slice(0, FOUNDATION_LENGTH);
}
