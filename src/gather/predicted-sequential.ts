import createDebug from 'debug';
import { makeLocalCandidate } from '../candidate/factory.js';
import { type PendingLimits, type ResynBudget, SimultaneousOpenPort } from '../transport/index.js';
import type { LocalEndpoint } from './endpoint.js';
import {
  classifyAllocation,
  type NatObservation,
  type PortAllocation,
  predictPorts,
  rangeWindow,
} from './nat-behaviour.js';
import { emitRangePredicted } from './predicted-range.js';
import { queryMapping } from './server-reflexive.js';

const log = createDebug('ice-tcp:gather:predicted');

/** Predicted ports advertised per address: the agent's own first check flows may take a few of them first. */
export const SEQUENTIAL_WINDOW = 8;
/** Connections from fresh ports sent as one burst to measure the step (classifyAllocation needs at least 3). */
export const SEQUENTIAL_PROBES = 5;
/** Bursts at most: a second one when the first showed no step (a stray flow too many, a lost probe). */
export const SEQUENTIAL_PROBE_ROUNDS = 2;

/** What sequential prediction needs. */
export interface SequentialPredictionOptions {
  server: { host: string; port: number };
  /** The local IP the probes and the predicted candidates' ports use. */
  baseAddress: string;
  /** other-preference of the address's host candidates (one per interface, RFC 6544 §4.2). */
  otherPreference: number;
  /** External ports already advertised as measured srflx candidates: a prediction never shadows one. */
  measuredPorts: ReadonlySet<number>;
  portRange?: { min: number; max: number };
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
  window?: number;
  probes?: number;
  /** Shared by every S-O port of the agent (see ResynBudget). */
  resynBudget?: ResynBudget;
  /** Limits on each predicted port's not yet authenticated inbound connections. */
  pending?: PendingLimits;
  /** The allocation the probes measured (NAT evidence). */
  onAllocation?: (allocation: PortAllocation) => void;
  /** The address's S-O host port: a port-range NAT's window is offered on it (predicted-range.ts). */
  baseSo?: SimultaneousOpenPort;
}

/**
 * Predicted S-O candidates for a NAT that allocates external ports in sequence (draft-ford-midcom-p2p §3.4
 * applied to TCP). A few connections from fresh local ports to the STUN server measure the step; the next
 * `window` external ports are advertised as `typ srflx tcptype so` with `x-ice-tcp-predicted sequential`,
 * each on its own S-O port that has not sent anything yet, so its first check flow takes the next port the
 * NAT hands out. Towards a port-preserving peer, which local port gets which predicted port does not matter:
 * the peer dials every predicted port and the one that meets a real flow of ours gets in. Towards a peer that
 * predicts too, the checklist pairs each predicted port with one partner and sends those checks first
 * (src/checklist/sequential.ts), so the k-th flow takes the k-th predicted port. A port-range NAT gets its
 * window offered on `baseSo` instead (predicted-range.ts). Returns nothing for another NAT.
 */
export async function gatherSequentialPredicted(
  options: SequentialPredictionOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<void> {
  const { allocation, last } = await measureAllocation(options);
  options.onAllocation?.(allocation);
  if (allocation.kind === 'range' && last && options.baseSo) {
    const ports = rangeWindow(allocation).filter((p) => !options.measuredPorts.has(p));
    const { baseAddress, otherPreference, nextId } = options;
    const rest = { baseAddress, otherPreference, nextId, serverHost: options.server.host };
    const span = { low: allocation.low, high: allocation.high };
    emitRangePredicted({ ...rest, address: last.address, ports, span, base: options.baseSo }, onEndpoint);
    return;
  }
  if (allocation.kind !== 'sequential' || !last) return;
  const ports = predictPorts(allocation, last, options.window ?? SEQUENTIAL_WINDOW).filter(
    (p) => !options.measuredPorts.has(p),
  );
  const soPorts = await Promise.all(
    ports.map(() =>
      SimultaneousOpenPort.open({
        ...options.pending,
        address: options.baseAddress,
        portRange: options.portRange,
        resynBudget: options.resynBudget,
      }),
    ),
  );
  emitPredicted(options, last.address, ports, soPorts, onEndpoint);
}

/** One `srflx so` candidate per predicted port, each on its own S-O port. */
function emitPredicted(
  options: SequentialPredictionOptions,
  address: string,
  ports: readonly number[],
  soPorts: readonly SimultaneousOpenPort[],
  onEndpoint: (endpoint: LocalEndpoint) => void,
): void {
  ports.forEach((external, i) => {
    const port = soPorts[i] as SimultaneousOpenPort;
    const candidate = makeLocalCandidate({
      id: options.nextId(),
      type: 'srflx',
      tcpType: 'so',
      address,
      port: external,
      baseAddress: options.baseAddress,
      basePort: port.port,
      otherPreference: options.otherPreference,
      // one foundation per predicted port: a shared one would freeze all but one of them (RFC 8445 §6.1.2.6),
      // and the window only works when the peer dials every predicted port at once
      serverAddress: `${options.server.host}#sequential${external}`,
      related: { address: options.baseAddress, port: port.port },
      predicted: 'sequential',
    });
    onEndpoint({ kind: 'so', candidate, port });
  });
}

/**
 * Measures the step: bursts of connections from fresh ports, all opened in the same tick so that their SYNs
 * cross the NAT back to back and no other flow is likely to fall between them (the agent holds its checks
 * meanwhile), then classified in the order they were opened. A burst that shows no step is tried once more.
 */
async function measureAllocation(
  options: SequentialPredictionOptions,
): Promise<{ allocation: PortAllocation; last: NatObservation['mapped'] | undefined }> {
  let allocation: PortAllocation = { kind: 'random' };
  let last: NatObservation['mapped'] | undefined;
  for (let round = 1; round <= SEQUENTIAL_PROBE_ROUNDS; round++) {
    const observations = await probeBurst(options, options.probes ?? SEQUENTIAL_PROBES);
    allocation = classifyAllocation(observations);
    last = observations.at(-1)?.mapped;
    log(
      'allocation via %s:%d: %o (burst %d, ports %s)',
      options.server.host,
      options.server.port,
      allocation,
      round,
      observations.map((o) => o.mapped.port).join(' '),
    );
    if (allocation.kind !== 'random') break;
  }
  return { allocation, last };
}

/** One burst of `count` STUN queries from fresh ports; the answered ones in the order they were opened. */
async function probeBurst(options: SequentialPredictionOptions, count: number): Promise<NatObservation[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () =>
      queryMapping({
        server: options.server,
        localAddress: options.baseAddress,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      }),
    ),
  );
  const observations: NatObservation[] = [];
  for (const r of settled) {
    if (r.status !== 'fulfilled') continue;
    const { connection, mapped } = r.value;
    observations.push({ localPort: connection.local.port, server: options.server, mapped });
    // RST: a graceful close would cost the NAT nothing, but leaves TIME_WAIT on our side for every probe
    connection.reset();
  }
  const failure = settled.find((r) => r.status === 'rejected');
  // a lost probe is a gap the step estimate tolerates; none answered is a failure worth reporting
  if (observations.length === 0 && failure) throw failure.reason;
  return observations;
}
