import { isIPv6 } from 'node:net';
import { makeLocalCandidate } from '../candidate/factory.js';
import { type IceTcpMux, isWildcard } from '../server/tcp-mux.js';
import type { PendingLimits } from '../transport/index.js';
import type { LocalAddress } from './addresses.js';
import type { LocalEndpoint } from './endpoint.js';

/** An agent generation's place on a shared mux port. */
export interface MuxGatherOptions {
  mux: IceTcpMux;
  /** The generation's local ufrag: the mux routes connections whose first check names it. */
  ufrag: string;
}

/**
 * The passive candidates of an agent on a mux: a host candidate at the mux's address and, when the mux knows
 * its public address, a server-reflexive one there (both served by one registration, released with the
 * generation's endpoints). Throws what registering throws (mux not listening, ufrag taken).
 */
export function gatherMuxCandidates(
  options: MuxGatherOptions & {
    addresses: readonly LocalAddress[];
    nextId: () => string;
    pending?: PendingLimits;
    maxFrameSize?: number;
  },
  onEndpoint: (endpoint: LocalEndpoint) => void,
): void {
  const listener = options.mux.register(options.ufrag, {
    pending: options.pending,
    maxFrameSize: options.maxFrameSize,
  });
  // a mux on a wildcard address is reached at each of the agent's addresses of its family
  const v6 = isIPv6(listener.address);
  const hosts = isWildcard(listener.address)
    ? options.addresses.map((a) => a.address).filter((a) => v6 || !isIPv6(a))
    : [listener.address];
  hosts.forEach((address, index) => {
    const host = makeLocalCandidate({
      id: options.nextId(),
      type: 'host',
      tcpType: 'passive',
      address,
      port: listener.port,
      baseAddress: address,
      basePort: listener.port,
      otherPreference: Math.max(0, 8191 - index),
    });
    onEndpoint({ kind: 'passive', candidate: host, listener });
  });
  const external = options.mux.publicAddress;
  if (external === undefined) return;
  const srflx = makeLocalCandidate({
    id: options.nextId(),
    type: 'srflx',
    tcpType: 'passive',
    address: external.address,
    port: external.port,
    baseAddress: hosts[0] ?? listener.address,
    basePort: listener.port,
    otherPreference: 8191,
    related: { address: hosts[0] ?? listener.address, port: listener.port },
  });
  onEndpoint({ kind: 'passive', candidate: srflx, listener });
}
