import type { Candidate, LocalCandidate, TcpType } from '../candidate/types.js';

/** RFC 6544 §6.2: active dials passive, passive accepts active, S-O meets S-O. */
export function peerTcpType(local: TcpType): TcpType {
  if (local === 'active') return 'passive';
  if (local === 'passive') return 'active';
  return 'so';
}

/** Numeric addresses only, so a colon is enough to tell the families apart. */
export function addressFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** RFC 6544 §6.2 and RFC 8445 §6.1.2.2: compatible tcptypes, same address family, same component. */
export function canPair(local: Candidate, remote: Candidate): boolean {
  return (
    remote.tcpType === peerTcpType(local.tcpType) &&
    addressFamily(local.address) === addressFamily(remote.address) &&
    local.component === remote.component
  );
}

/**
 * Two pairs with the same key would open the same connection (RFC 8445 §6.1.2.4: a reflexive local candidate
 * is replaced by its base). An active candidate dials from an ephemeral port, so only its base address counts.
 */
export function redundancyKey(local: LocalCandidate, remote: Candidate): string {
  const base = local.tcpType === 'active' ? local.baseAddress : `${local.baseAddress}|${local.basePort}`;
  return `${local.tcpType}|${base}|${remote.address}|${remote.port}|${remote.tcpType}`;
}
