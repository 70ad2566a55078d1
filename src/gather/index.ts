import type { NatProfile } from '../candidate/nat-profile.js';
import type { TcpType } from '../candidate/types.js';
import type { IceTcpError } from '../errors.js';
import { type PendingLimits, ResynBudget } from '../transport/index.js';
import type { TurnServerOptions } from '../turn/index.js';
import type { LocalAddress } from './addresses.js';
import type { LocalEndpoint } from './endpoint.js';
import { gatherHostCandidates } from './host.js';
import type { MuxGatherOptions } from './mux-candidates.js';
import { NatEvidenceCollector } from './nat-evidence.js';
import { predictSequentialForHosts } from './predicted-hosts.js';
import { ProbeHold } from './probe-hold.js';
import { gatherRelay } from './relay.js';
import { gatherServerReflexive, type StunServerAddress } from './server-reflexive.js';
import { SpareSoCollector } from './spare-so.js';

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
  /** Largest RFC 4571 frame accepted on relayed connections. */
  maxFrameSize?: number;
  /** Later failures of a TURN allocation in use (refresh, permission). */
  onError?: (error: IceTcpError) => void;
  /** Re-SYN budget of the agent's S-O ports; default one shared by everything this call gathers. */
  resynBudget?: ResynBudget;
  /** Limits on each passive and S-O port's not yet authenticated inbound connections. */
  pending?: PendingLimits;
  /** Passive candidates on this shared port (the agent's `mux` option) instead of a listener per address. */
  mux?: MuxGatherOptions;
  /**
   * Called with true when sequential prediction starts measuring the NAT (checks must not open flows through
   * it until then), and with false when done, at most PREDICTION_HOLD_LIMIT_MS later.
   */
  onProbeHold?: (held: boolean) => void;
  /**
   * Asked once the srflx answers are in: true gathers a spare S-O port per address behind a port-preserving NAT
   * (gather/spare-so.ts; the agent says true when it is controlling).
   */
  wantsSpareSo?: () => boolean;
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
): Promise<{ errors: Error[]; resources: GatherResource[]; nat: NatProfile }> {
  const errors: Error[] = [];
  const resources: GatherResource[] = [];
  const evidence = new NatEvidenceCollector();
  const relay =
    options.turnServers.length > 0
      ? gatherRelay(
          {
            servers: options.turnServers,
            timeoutMs: options.timeoutMs,
            signal: options.signal,
            nextId: options.nextId,
            maxFrameSize: options.maxFrameSize ?? 65535,
            onError: options.onError ?? (() => undefined),
          },
          onEndpoint,
        )
      : Promise.resolve({ errors: [] });
  // forceRelay: no host sockets at all, they would only sit unused
  if (!options.forceRelay) {
    // one budget for all S-O ports: a peer's candidates must not multiply the agent's SYN rate
    const direct = { ...options, resynBudget: options.resynBudget ?? new ResynBudget() };
    await gatherDirect(direct, onEndpoint, errors, resources, evidence);
  }
  errors.push(...(await relay).errors);
  return { errors, resources, nat: evidence.profile() };
}

/** Host candidates, then server-reflexive ones derived from them. */
async function gatherDirect(
  options: GatherOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
  errors: Error[],
  resources: GatherResource[],
  evidence: NatEvidenceCollector,
): Promise<void> {
  const hostEndpoints: LocalEndpoint[] = [];
  const host = await gatherHostCandidates(options, (e) => {
    hostEndpoints.push(e);
    onEndpoint(e);
  });
  errors.push(...host.errors);
  if (options.stunServers.length === 0) return;
  const measured = new Set<number>();
  const unpreserved = new Set<string>();
  const hold = new ProbeHold(options.onProbeHold);
  const spares = new SpareSoCollector();
  try {
    const srflx = await gatherServerReflexive(
      {
        servers: options.stunServers,
        hostEndpoints,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        nextId: options.nextId,
        onMapping: (o) => evidence.noteMapping(o),
      },
      (e) => {
        measured.add(e.candidate.port);
        // a NAT that did not keep the S-O port may allocate in sequence: worth probing (prediction skips
        // others), and from now on a check flow of ours through it would skew the measurement
        if (e.kind === 'so' && e.candidate.port !== e.candidate.basePort) {
          unpreserved.add(e.candidate.baseAddress);
          hold.begin();
        }
        spares.note(e);
        onEndpoint(e);
      },
    );
    errors.push(...srflx.errors);
    resources.push(...srflx.connections);
    const spare = spares.gather(
      { ...options, servers: options.stunServers },
      options.wantsSpareSo,
      onEndpoint,
    );
    // after the srflx queries: no flow of ours may fall between measuring the NAT's step and the checks
    const bases = hostEndpoints.filter((e) => unpreserved.has(e.candidate.baseAddress));
    // one flow each, before the prediction probes: outside their measurement
    await evidence.probeMappings(unpreserved, options.stunServers, options.timeoutMs, options.signal);
    const context = { ...options, onAllocation: evidence.noteAllocation.bind(evidence) };
    errors.push(...(await predictSequentialForHosts(context, bases, measured, onEndpoint)));
    const spared = await spare;
    errors.push(...spared.errors);
    resources.push(...spared.connections);
  } finally {
    hold.end();
  }
}
