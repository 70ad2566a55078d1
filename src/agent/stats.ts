import type { Candidate } from '../candidate/types.js';
import type { CandidatePair, PairState } from '../checklist/index.js';
import type { IceRole } from './options.js';
import type { IceState } from './state.js';

/** One candidate pair in {@link IceStats}. */
export interface PairStats {
  id: string;
  local: Pick<Candidate, 'type' | 'tcpType' | 'address' | 'port'>;
  remote: Pick<Candidate, 'type' | 'tcpType' | 'address' | 'port'>;
  state: PairState;
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

/** What `agent.getStats()` returns. Once a pair is selected, `pairs` leaves out the ones never checked. */
export interface IceStats {
  state: IceState;
  role: IceRole | undefined;
  pairs: PairStats[];
  /**
   * Frames from the network dropped as unusable: checks that failed authentication, STUN that does not
   * parse or answers nothing of ours, data before any check succeeded. A stranger's noise ends here: once one
   * of its frames was dropped, the rest of its connection is not read (nor counted) until its reset.
   */
  droppedMessages: number;
  /** Consent checks (RFC 7675) sent on the selected pair so far. */
  consentChecksSent: number;
  /** Consent checks the peer answered with an authenticated success. */
  consentChecksAnswered: number;
}

const NEVER_CHECKED: ReadonlySet<PairState> = new Set(['frozen', 'waiting']);

function endpoint(c: Candidate): PairStats['local'] {
  return { type: c.type, tcpType: c.tcpType, address: c.address, port: c.port };
}

/** Builds the stats snapshot from the checklist's pairs and the connections' byte counters. */
export function buildStats(input: {
  state: IceState;
  role: IceRole | undefined;
  pairs: readonly CandidatePair[];
  selectedPairId: string | undefined;
  bytesOf: (pairId: string) => { sent: number; received: number };
  droppedMessages: number;
  consent: { checksSent: number; checksAnswered: number } | undefined;
}): IceStats {
  return {
    state: input.state,
    role: input.role,
    droppedMessages: input.droppedMessages,
    consentChecksSent: input.consent?.checksSent ?? 0,
    consentChecksAnswered: input.consent?.checksAnswered ?? 0,
    // RFC 8445 §8.1.2: once a pair is selected, the Frozen and Waiting pairs are no longer part of the checklist
    pairs: input.pairs
      .filter((p) => input.selectedPairId === undefined || !NEVER_CHECKED.has(p.state))
      .map((p) => {
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
