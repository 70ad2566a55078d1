import createDebug from 'debug';
import { makeLocalCandidate, otherPreferenceOf } from '../candidate/factory.js';
import { type PendingLimits, type ResynBudget, SimultaneousOpenPort } from '../transport/index.js';
import type { LocalEndpoint } from './endpoint.js';
import { gatherServerReflexive, type StunServerAddress } from './server-reflexive.js';

const log = createDebug('ice-tcp:gather:spare');

/**
 * Spare S-O ports per address: each is one more 5-tuple to try after the one before failed (~2.5 s each, the
 * dial timeout). At zero RTT under load one 5-tuple failed 7 of 20 lab runs (2026-11-27, load average 12-14).
 */
export const SPARE_SO_PORTS = 2;

/**
 * Subtracted from the primary S-O candidate's other-preference per spare: the k-th spare ranks below every primary
 * (host.ts gives address i the preference 8191 - i) and below spare k-1, so both agents order the spares' pairs
 * after the primary's, in the same order.
 */
const SPARE_PREFERENCE_STEP = 1024;

/** What gathering a spare S-O port needs. */
export interface SpareSoOptions {
  servers: readonly StunServerAddress[];
  /** The `srflx so` endpoints whose port the NAT preserved (spares are per base address). */
  preserved: readonly LocalEndpoint[];
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
  portRange?: { min: number; max: number };
  resynBudget?: ResynBudget;
  pending?: PendingLimits;
}

/**
 * {@link SPARE_SO_PORTS} spare S-O candidates per address behind a port-preserving NAT: each its own port,
 * advertised as `host so` and, learned from the STUN server over that port, `srflx so`. They share the foundation
 * of the primary S-O port's candidates and rank just below them, so RFC 8445 freezing keeps their pairs frozen (on
 * both sides) while the primary's pair is checked, and thaws the next one only once the one before failed. That is the way out of the RST
 * ping-pong's lock-out (docs/ARCHITECTURE.md, "RST ping-pong"): crossing SYNs at zero RTT can leave the two NATs'
 * conntrack entries in SYN_SENT2/CLOSE, refusing every later SYN of that 5-tuple for longer than the dial, and
 * only a new 5-tuple gets new entries. Gathered up front, not after the failure: a late candidate cannot reach
 * a copy-paste peer (it stops reading at end-of-candidates), and the peer's own pairs all fail at the same time
 * as ours, so without a frozen pair waiting for the new candidate it would declare ICE failed first.
 * Only the controlling agent gathers spares: if both did, each would thaw a different second 5-tuple (each side
 * orders the pairs by the other's srflx priority first), and neither would meet the other's.
 */
export async function gatherSpareSo(
  options: SpareSoOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<{ errors: Error[]; connections: { reset(): void }[] }> {
  const errors: Error[] = [];
  const connections: { reset(): void }[] = [];
  const bases = new Map<string, LocalEndpoint>();
  for (const e of options.preserved)
    if (e.kind === 'so' && !bases.has(e.candidate.baseAddress)) bases.set(e.candidate.baseAddress, e);
  const work: Promise<void>[] = [];
  for (const primary of bases.values())
    for (let k = 1; k <= SPARE_SO_PORTS; k++)
      work.push(gatherOneSpare(options, primary, k, onEndpoint, errors, connections));
  await Promise.all(work);
  return { errors, connections };
}

/** The k-th spare of `primary`'s address: its port, its `host so` candidate, then its `srflx so` one. */
async function gatherOneSpare(
  options: SpareSoOptions,
  primary: LocalEndpoint,
  k: number,
  onEndpoint: (endpoint: LocalEndpoint) => void,
  errors: Error[],
  connections: { reset(): void }[],
): Promise<void> {
  if (options.signal?.aborted) return;
  const address = primary.candidate.baseAddress;
  let spare: LocalEndpoint;
  try {
    const port = await SimultaneousOpenPort.open({
      ...options.pending,
      address,
      portRange: options.portRange,
      resynBudget: options.resynBudget,
    });
    const candidate = makeLocalCandidate({
      id: options.nextId(),
      type: 'host',
      tcpType: 'so',
      address,
      port: port.port,
      baseAddress: address,
      basePort: port.port,
      otherPreference: Math.max(0, otherPreferenceOf(primary.candidate.priority) - k * SPARE_PREFERENCE_STEP),
    });
    spare = { kind: 'so', candidate, port };
  } catch (err) {
    log('spare S-O port on %s failed: %s', address, (err as Error).message);
    errors.push(err as Error);
    return;
  }
  log('spare S-O port #%d %s:%d', k, address, spare.candidate.basePort);
  onEndpoint(spare);
  // one server: the spare only needs its mapping, and NAT evidence has what the primary port measured
  const srflx = await gatherServerReflexive(
    { ...options, hostEndpoints: [spare], servers: options.servers.slice(0, 1) },
    onEndpoint,
  );
  errors.push(...srflx.errors);
  connections.push(...srflx.connections);
}

/** Watches the srflx answers for preserved S-O ports, then gathers their spares if the agent wants them. */
export class SpareSoCollector {
  private readonly preserved: LocalEndpoint[] = [];

  /** Notes a gathered endpoint: a `srflx so` at its base's own port shows a port-preserving NAT. */
  note(endpoint: LocalEndpoint): void {
    const c = endpoint.candidate;
    if (endpoint.kind === 'so' && c.type === 'srflx' && c.port === c.basePort) this.preserved.push(endpoint);
  }

  /** Gathers the spares when `wanted()` says so (asked now: the role may have been settled meanwhile). */
  async gather(
    options: Omit<SpareSoOptions, 'preserved'>,
    wanted: (() => boolean) | undefined,
    onEndpoint: (endpoint: LocalEndpoint) => void,
  ): Promise<{ errors: Error[]; connections: { reset(): void }[] }> {
    if (this.preserved.length === 0 || wanted?.() !== true) return { errors: [], connections: [] };
    return gatherSpareSo({ ...options, preserved: this.preserved }, onEndpoint);
  }
}
