import type { Candidate } from '../candidate/types.js';
import type { CandidatePair } from '../checklist/index.js';
import type { IceRole } from './options.js';

/** One candidate pair in {@link IceStats}. */
export interface PairStats {
  id: string;
  local: Pick<Candidate, 'type' | 'tcpType' | 'address' | 'port'>;
  remote: Pick<Candidate, 'type' | 'tcpType' | 'address' | 'port'>;
  state: CandidatePair['state'];
  /** Pair priority as a decimal string (it exceeds 2^53). */
  priority: string;
  nominated: boolean;
  selected: boolean;
  rttMs: number | undefined;
  checksSent: number;
  checksReceived: number;
  bytesSent: number;
  bytesReceived: number;
}

/** What `agent.getStats()` returns. */
export interface IceStats {
  state: string;
  role: IceRole | undefined;
  pairs: PairStats[];
}

function endpoint(c: Candidate): PairStats['local'] {
  return { type: c.type, tcpType: c.tcpType, address: c.address, port: c.port };
}

/** Builds the stats snapshot from the checklist's pairs and the connections' byte counters. */
export function buildStats(input: {
  state: string;
  role: IceRole | undefined;
  pairs: readonly CandidatePair[];
  selectedPairId: string | undefined;
  bytesOf: (pairId: string) => { sent: number; received: number };
}): IceStats {
  return {
    state: input.state,
    role: input.role,
    pairs: input.pairs.map((p) => {
      const bytes = input.bytesOf(p.id);
      return {
        id: p.id,
        local: endpoint(p.local),
        remote: endpoint(p.remote),
        state: p.state,
        priority: p.priority.toString(),
        nominated: p.nominated,
        selected: p.id === input.selectedPairId,
        rttMs: p.rttMs,
        checksSent: p.checksSent,
        checksReceived: p.checksReceived,
        bytesSent: bytes.sent,
        bytesReceived: bytes.received,
      };
    }),
  };
}
