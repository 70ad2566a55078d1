import type { NatProfile } from '../candidate/nat-profile.js';
import { GatherError, IceTcpError } from '../errors.js';
import { defaultLocalAddresses, explicitLocalAddresses } from '../gather/addresses.js';
import { type GatherResource, gatherCandidates, type LocalEndpoint } from '../gather/index.js';
import { pendingLimits } from './generation-setup.js';
import type { ResolvedOptions } from './options.js';

/** What gathering reports back to the agent while it runs. */
export interface LocalGatheringHooks {
  /** The generation's signal: gathering stops when it is abandoned. */
  signal: AbortSignal;
  /** The generation's local ufrag (a mux routes by it). */
  ufrag?: string;
  /** A fresh internal id for a local candidate. */
  nextId(): string;
  /** A later failure of a resource in use (a TURN refresh or permission). */
  onError(error: IceTcpError): void;
  /** Sequential prediction measures the NAT (true) or is done (false): checks wait meanwhile. */
  onProbeHold(held: boolean): void;
  /** A local endpoint is ready (trickle). */
  onEndpoint(endpoint: LocalEndpoint): void;
  /** Whether the agent controls now (it then gathers spare S-O ports: gather/spare-so.ts). */
  controlling?(): boolean;
}

/**
 * Gathers the local candidates the options ask for. Server failures come back as errors, each an
 * {@link IceTcpError}; the resources are what lives as long as the generation.
 */
export async function gatherLocal(
  options: ResolvedOptions,
  hooks: LocalGatheringHooks,
): Promise<{ errors: IceTcpError[]; resources: GatherResource[]; nat: NatProfile }> {
  const addresses = options.addresses
    ? explicitLocalAddresses(options.addresses)
    : defaultLocalAddresses(options.includeLoopback);
  const { errors, resources, nat } = await gatherCandidates(
    {
      addresses,
      tcpTypes: options.tcpTypes,
      portRange: options.portRange,
      stunServers: options.stunServers,
      turnServers: options.turnServers,
      forceRelay: options.forceRelay,
      timeoutMs: options.gatherTimeoutMs,
      signal: hooks.signal,
      nextId: hooks.nextId,
      maxFrameSize: options.maxFrameSize,
      pending: pendingLimits(options),
      ...(options.mux && hooks.ufrag ? { mux: { mux: options.mux, ufrag: hooks.ufrag } } : {}),
      onError: hooks.onError,
      onProbeHold: hooks.onProbeHold,
      wantsSpareSo: hooks.controlling,
    },
    hooks.onEndpoint,
  );
  return {
    errors: errors.map((err) =>
      err instanceof IceTcpError ? err : new GatherError(err.message, { cause: err }),
    ),
    resources,
    nat,
  };
}
