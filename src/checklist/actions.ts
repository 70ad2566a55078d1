import type { IceRole, TcpType } from '../candidate/types.js';
import type { RemoteCandidate } from './pair.js';

/** What the checklist asks the agent to do, returned by `poll(now)`. */
export type ChecklistAction =
  /**
   * Send a Binding request on the pair, opening its connection first when needed. `timeoutMs`: how long this
   * check may take when it is longer than `checkTimeoutMs` (an S-O SYN kept for a peer that has not checked us
   * yet, peer-wait.ts); the connection's set-up gets as long.
   */
  | { type: 'check'; pairId: string; useCandidate: boolean; triggered: boolean; timeoutMs?: number }
  /** The pair is nominated: hand its connection to the application. */
  | { type: 'selected'; pairId: string }
  /** ICE failed: no pair can succeed any more. */
  | { type: 'failed'; reason: string }
  /** A role conflict changed our role (RFC 8445 §7.2.5.1, §7.3.1.1). */
  | { type: 'role-changed'; role: IceRole }
  /** The agent closes that pair's connection with RST. */
  | { type: 'pair-failed'; pairId: string }
  /** The first pair that works, before nomination. */
  | { type: 'pair-succeeded'; pairId: string };

/** An authenticated Binding request the peer sent us on a connection. */
export interface IncomingCheck {
  /** The local candidate whose socket the connection belongs to. */
  localCandidateId: string;
  /** Source of the connection as seen by our socket. */
  remoteAddress: string;
  remotePort: number;
  /** 'active' for an inbound connection accepted on a passive candidate, 'so' for an S-O connection. */
  remoteTcpType?: TcpType;
  /** The PRIORITY attribute (RFC 8445 §7.1.1). */
  priority: number;
  useCandidate: boolean;
  iceControlling?: bigint;
  iceControlled?: bigint;
}

/** How the agent answers an incoming check. */
export type IncomingCheckResult =
  | { response: 'success'; pairId: string; learnedRemote?: RemoteCandidate }
  /** The agent answers 487 (Role Conflict). */
  | { response: 'role-conflict' };
