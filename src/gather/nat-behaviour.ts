import type { TransportAddress } from '../stun/index.js';

/** One probe: from which local port, to which server endpoint, what mapping came back. */
export interface NatObservation {
  localPort: number;
  server: { host: string; port: number };
  mapped: { address: string; port: number };
}

/** How a NAT allocates external ports for new TCP connections. */
export type PortAllocation =
  | { kind: 'preserving' }
  | { kind: 'sequential'; delta: number }
  /** A random port per flow inside a small range; `low`-`high` is the span the probes saw. */
  | { kind: 'range'; low: number; high: number }
  | { kind: 'random' }
  | { kind: 'none' };

/** What `ice-tcp natcheck` concludes (RFC 4787/5382 terms, for TCP). */
export interface NatReport {
  behindNat: boolean;
  publicAddress: string | undefined;
  /** Same external port for one local port towards two server endpoints? */
  mapping: 'endpoint-independent' | 'endpoint-dependent' | 'unknown';
  portPreservation: boolean;
  allocation: PortAllocation;
  traversal: 'direct-likely' | 'needs-prediction' | 'needs-relay';
  observations: {
    fixedPort: NatObservation[];
    freshPorts: NatObservation[];
  };
}

/** Largest port step still called sequential (a busy NAT interleaves other hosts' connections). */
const MAX_SEQUENTIAL_DELTA = 16;
/** Largest number of stray allocations between two of our probes that still counts as evidence of a step. */
const MAX_STRAYS_PER_GAP = 3;

/**
 * The NAT's port step from the external ports of consecutive probes (in the order they were sent), or
 * undefined when the ports show none. The step is the most frequent delta (ties: the smaller one); it holds
 * when a strict majority of deltas equal it, or when it occurs at least twice and every other delta is a
 * small multiple of it with the same sign, which is what flows of other hosts, or a probe that got no answer,
 * falling between two probes look like. Steps may be negative (NATs counting down); 0 is no step.
 */
export function estimateStep(ports: readonly number[]): number | undefined {
  const deltas = ports.slice(1).map((p, i) => p - (ports[i] as number));
  const counts = new Map<number, number>();
  for (const d of deltas) {
    if (d !== 0 && Math.abs(d) <= MAX_SEQUENTIAL_DELTA) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let step: number | undefined;
  let best = 0;
  for (const [d, n] of counts) {
    if (n > best || (n === best && step !== undefined && Math.abs(d) < Math.abs(step))) {
      step = d;
      best = n;
    }
  }
  if (step === undefined || best < 2) return undefined;
  if (best * 2 > deltas.length) return step;
  const s = step;
  const strayGaps = deltas.every((d) => d % s === 0 && d / s >= 1 && d / s <= 1 + MAX_STRAYS_PER_GAP);
  return strayGaps ? step : undefined;
}

/** Widest span of probe ports still called a range: the peer dials every port of it (see rangeWindow). */
export const RANGE_MAX_SPAN = 32;
/** Probes a range needs: with fewer, a random NAT clusters too often. */
export const RANGE_MIN_PROBES = 4;
/** Most ports offered for a range NAT, each one a check the peer sends. */
export const RANGE_MAX_PORTS = 32;

/**
 * The span of a port-range NAT (a random port per flow among a few dozen), or undefined. Every port must lie
 * in it: a range NAT gives none outside, so one far port means random. A NAT that gives every flow one port
 * (all probes equal) is a range of one. False positives: n ports of a random
 * NAT over N ports fall within w with probability about n·(w/N)^(n-1): 3e-13 for 5 probes over 1024-65535,
 * 5e-10 for 4; a NAT randomising over 1,000 ports, 5e-6 and 1e-4.
 */
export function estimateRange(ports: readonly number[]): { low: number; high: number } | undefined {
  // repeats allowed: probes one after another (natcheck) may draw a port its predecessor freed
  if (ports.length < RANGE_MIN_PROBES) return undefined;
  const low = Math.min(...ports);
  const high = Math.max(...ports);
  return high - low + 1 <= RANGE_MAX_SPAN ? { low, high } : undefined;
}

/**
 * Classifies port allocation from mappings of consecutive connections from fresh local ports: all equal to
 * their local ports → preserving; a step that the deltas agree on ({@link estimateStep}) → sequential with
 * that delta; all within a few dozen ports ({@link estimateRange}) → range; otherwise random.
 */
export function classifyAllocation(fresh: readonly NatObservation[]): PortAllocation {
  if (fresh.length === 0) return { kind: 'random' };
  if (fresh.every((o) => o.mapped.port === o.localPort)) return { kind: 'preserving' };
  if (fresh.length < 3) return { kind: 'random' };
  const ports = fresh.map((o) => o.mapped.port);
  const delta = estimateStep(ports);
  if (delta !== undefined) return { kind: 'sequential', delta };
  const range = estimateRange(ports);
  return range ? { kind: 'range', ...range } : { kind: 'random' };
}

/**
 * The ports to offer for a range NAT: the span the probes saw, widened by half its width on each side (the probes
 * may not have drawn the real range's ends), at most {@link RANGE_MAX_PORTS}, inside 1-65535. Simulated with 5
 * probes: a later flow's port falls outside 0.5 % of the time for a 10-port range, 2 % for 16, 9 % for 32.
 */
export function rangeWindow(allocation: PortAllocation): number[] {
  if (allocation.kind !== 'range') return [];
  const width = allocation.high - allocation.low + 1;
  const pad = Math.max(0, Math.min(Math.ceil(width / 2), Math.floor((RANGE_MAX_PORTS - width) / 2)));
  const ports: number[] = [];
  for (let p = Math.max(1, allocation.low - pad); p <= Math.min(65535, allocation.high + pad); p++)
    ports.push(p);
  return ports;
}

/** Builds the report from the raw observations (pure: unit-tested without a network). */
export function classifyNat(
  localAddress: string,
  fixedPort: readonly NatObservation[],
  freshPorts: readonly NatObservation[],
): NatReport {
  const all = [...fixedPort, ...freshPorts];
  const behindNat = all.some((o) => o.mapped.address !== localAddress || o.mapped.port !== o.localPort);
  const publicAddress = all[0]?.mapped.address;
  let mapping: NatReport['mapping'] = 'unknown';
  const distinctServers = new Set(fixedPort.map((o) => `${o.server.host}:${o.server.port}`));
  if (fixedPort.length >= 2 && distinctServers.size >= 2) {
    const ports = new Set(fixedPort.map((o) => `${o.mapped.address}:${o.mapped.port}`));
    mapping = ports.size === 1 ? 'endpoint-independent' : 'endpoint-dependent';
  }
  const portPreservation = fixedPort.length > 0 && fixedPort.every((o) => o.mapped.port === o.localPort);
  const allocation = behindNat ? classifyAllocation(freshPorts) : ({ kind: 'none' } as const);
  let traversal: NatReport['traversal'];
  if (!behindNat || mapping === 'endpoint-independent' || allocation.kind === 'preserving') {
    traversal = 'direct-likely';
  } else if (allocation.kind === 'sequential' || allocation.kind === 'range') {
    traversal = 'needs-prediction';
  } else {
    traversal = mapping === 'unknown' && portPreservation ? 'direct-likely' : 'needs-relay';
  }
  return {
    behindNat,
    publicAddress,
    mapping,
    portPreservation,
    allocation,
    traversal,
    observations: { fixedPort: [...fixedPort], freshPorts: [...freshPorts] },
  };
}

/** Predicts the next `count` external ports after the last fresh-port observation. */
export function predictPorts(
  allocation: PortAllocation,
  last: Pick<TransportAddress, 'port'> | undefined,
  count: number,
): number[] {
  if (allocation.kind !== 'sequential' || !last) return [];
  const ports: number[] = [];
  for (let k = 1; k <= count; k++) {
    const p = last.port + allocation.delta * k;
    if (p > 0 && p < 65536) ports.push(p);
  }
  return ports;
}
