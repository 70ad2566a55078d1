import type { TransportAddress } from '../stun/index.js';

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** A socket's address and port as a STUN transport address; IPv4-mapped IPv6 (from a dual-stack listener) becomes IPv4. */
export function toTransportAddress(address: string, port: number): TransportAddress {
  const mapped = V4_MAPPED.exec(address);
  if (mapped?.[1] !== undefined) return { family: 4, address: mapped[1], port };
  return { family: address.includes(':') ? 6 : 4, address, port };
}

/** Whether `host` is a wildcard ("any address") rather than one address a client could send to. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::0';
}
