import type { Candidate } from '../candidate/types.js';
import type { IceTcpError } from '../errors.js';
import type { IceParameters } from './credentials.js';
import type { GatheringState, IceState } from './state.js';

/** The nominated pair, as reported by the `'selected-pair'` event. */
export interface SelectedPair {
  local: Candidate;
  remote: Candidate;
}

/** Typed events of an `IceAgent`. */
export interface IceAgentEvents {
  /** A local candidate to signal to the peer; `null` once gathering is complete. */
  candidate: [Candidate | null];
  'gathering-state': [GatheringState];
  /**
   * The ICE state; for `'disconnected'` and `'failed'` the reason too: a `ConnectionLostError` or
   * `ConsentLostError` once a pair was selected, the `IceFailedError`/`IceTimeoutError`/... of `connect()` before.
   */
  state: [state: IceState, reason?: IceTcpError];
  'selected-pair': [SelectedPair];
  /**
   * Our new ufrag and password after an ICE restart (ours, or the peer's that we follow): signal them to the
   * peer; the new generation's candidates follow as `'candidate'` events, then `null`.
   */
  parameters: [IceParameters];
  /** A non-fatal problem (a STUN/TURN server failed, a bad remote candidate); fatal ones reject `connect()`. */
  error: [IceTcpError];
}
