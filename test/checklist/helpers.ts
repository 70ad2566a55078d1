import { candidatePriority } from '../../src/candidate/priority.js';
import type { Candidate, CandidateType, TcpType } from '../../src/candidate/types.js';
import {
  Checklist,
  type ChecklistAction,
  type ChecklistConfig,
  type LocalCandidate,
} from '../../src/checklist/index.js';

/** Agent defaults, with a small Ta so the arithmetic in tests stays readable. */
export function testConfig(overrides: Partial<ChecklistConfig> = {}): ChecklistConfig {
  return {
    role: 'controlling',
    tieBreaker: 10n,
    pacingMs: 5,
    checkTimeoutMs: 2500,
    maxPairs: 100,
    nominationWaitMs: 800,
    remoteEndOfCandidatesTimeoutMs: 5000,
    ...overrides,
  };
}

interface CandidateSpec {
  tcpType: TcpType;
  type?: CandidateType;
  address?: string;
  port?: number;
  foundation?: string;
  otherPreference?: number;
  priority?: number;
}

function candidate(spec: CandidateSpec): Candidate {
  const type = spec.type ?? 'host';
  const port = spec.port ?? (spec.tcpType === 'active' ? 9 : 50000);
  return {
    foundation: spec.foundation ?? `${type}${spec.tcpType}`,
    component: 1,
    transport: 'TCP',
    priority:
      spec.priority ??
      candidatePriority({ type, tcpType: spec.tcpType, otherPreference: spec.otherPreference ?? 0 }),
    address: spec.address ?? '10.0.0.1',
    port,
    type,
    tcpType: spec.tcpType,
    extensions: [],
  };
}

/** One of our candidates; its base is itself unless told otherwise. */
export function localCandidate(
  id: string,
  spec: CandidateSpec & { baseAddress?: string; basePort?: number },
): LocalCandidate {
  const c = candidate(spec);
  return { ...c, id, baseAddress: spec.baseAddress ?? c.address, basePort: spec.basePort ?? c.port };
}

/** One of the peer's candidates, as signalled. */
export function remoteCandidate(spec: CandidateSpec & { id?: string }): Candidate & { id?: string } {
  const c = candidate({ address: '10.0.0.2', ...spec });
  return spec.id === undefined ? c : { ...c, id: spec.id };
}

/** The check actions among `actions`. */
export function checks(actions: readonly ChecklistAction[]): Extract<ChecklistAction, { type: 'check' }>[] {
  return actions.filter((a): a is Extract<ChecklistAction, { type: 'check' }> => a.type === 'check');
}

/** The types of `actions`, in order, for compact assertions. */
export function kinds(actions: readonly ChecklistAction[]): string[] {
  return actions.map((a) => a.type);
}

/** A checklist with one active and one passive host candidate on each side, before start. */
export function activePassiveChecklist(overrides: Partial<ChecklistConfig> = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('L-active', { tcpType: 'active' }), 0);
  list.addLocalCandidate(localCandidate('L-passive', { tcpType: 'passive', port: 40000 }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'R-passive', tcpType: 'passive', port: 50000 }), 0);
  list.addRemoteCandidate(remoteCandidate({ id: 'R-active', tcpType: 'active' }), 0);
  return list;
}

/** One host candidate of each tcptype on `address`: active, passive at `basePort`, S-O at `basePort + 1`. */
export function hostCandidates(prefix: string, address: string, basePort: number): LocalCandidate[] {
  return [
    localCandidate(`${prefix}-active`, { tcpType: 'active', address, foundation: `${prefix}a` }),
    localCandidate(`${prefix}-passive`, {
      tcpType: 'passive',
      address,
      port: basePort,
      foundation: `${prefix}p`,
    }),
    localCandidate(`${prefix}-so`, { tcpType: 'so', address, port: basePort + 1, foundation: `${prefix}s` }),
  ];
}
