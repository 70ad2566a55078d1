import type { StunServerAddress, TurnServerOptions } from '../agent/options.js';
import type { TcpType } from '../candidate/types.js';
import type { LocalAddress } from './addresses.js';
import type { LocalEndpoint } from './endpoint.js';
import { gatherHostCandidates } from './host.js';
import { gatherServerReflexive } from './server-reflexive.js';

export { defaultLocalAddresses, explicitLocalAddresses, type LocalAddress } from './addresses.js';
export type { LocalEndpoint, RelayEndpointHandle } from './endpoint.js';
export { queryMapping } from './server-reflexive.js';

/** Everything gathering needs to know. */
export interface GatherOptions {
  addresses: readonly LocalAddress[];
  tcpTypes: readonly TcpType[];
  portRange?: { min: number; max: number };
  stunServers: readonly StunServerAddress[];
  turnServers: readonly TurnServerOptions[];
  forceRelay: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
}

/** Something gathering left open that lives as long as the agent (a STUN or TURN server connection). */
export interface GatherResource {
  reset(): void;
}

/**
 * Gathers every kind of candidate the options ask for and reports each endpoint as soon as it exists (trickle).
 * Failures of servers are returned, never thrown: the other candidates are still gathered.
 */
export async function gatherCandidates(
  options: GatherOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<{ errors: Error[]; resources: GatherResource[] }> {
  const errors: Error[] = [];
  const resources: GatherResource[] = [];
  const hostEndpoints: LocalEndpoint[] = [];
  const host = await gatherHostCandidates(options, (e) => {
    hostEndpoints.push(e);
    if (!options.forceRelay) onEndpoint(e);
  });
  errors.push(...host.errors);
  if (options.stunServers.length > 0 && !options.forceRelay) {
    const srflx = await gatherServerReflexive(
      {
        servers: options.stunServers,
        hostEndpoints,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        nextId: options.nextId,
      },
      onEndpoint,
    );
    errors.push(...srflx.errors);
    resources.push(...srflx.connections);
  }
  return { errors, resources };
}
