import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

/** One usable local IP and the interface it belongs to. */
export interface LocalAddress {
  address: string;
  family: 4 | 6;
  interfaceName: string;
}

/**
 * The addresses host candidates are gathered on: every unicast IPv4/IPv6 address except loopback and
 * IPv6 link-local (those need a zone id that does not survive signalling); loopback only when nothing else
 * exists or when asked for.
 */
export function defaultLocalAddresses(includeLoopback = false): LocalAddress[] {
  const found: LocalAddress[] = [];
  const loopback: LocalAddress[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      const family = info.family === 'IPv6' ? 6 : 4;
      const parsed = ipaddr.parse(info.address);
      const range = parsed.range();
      if (range === 'loopback') {
        loopback.push({ address: info.address, family, interfaceName: name });
        continue;
      }
      if (range === 'linkLocal' || range === 'unspecified' || range === 'multicast') continue;
      found.push({ address: info.address, family, interfaceName: name });
    }
  }
  if (found.length === 0 || includeLoopback) found.push(...loopback);
  return found;
}

/** Describes explicitly configured addresses (validated numeric IPs). */
export function explicitLocalAddresses(addresses: readonly string[]): LocalAddress[] {
  return addresses.map((address) => {
    const parsed = ipaddr.parse(address);
    return {
      address: parsed.kind() === 'ipv6' ? parsed.toString() : address,
      family: parsed.kind() === 'ipv6' ? 6 : 4,
      interfaceName: address,
    };
  });
}
