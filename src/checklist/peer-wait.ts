/**
 * Waiting for a peer that has not checked us yet.
 *
 * Both sides start checking when they hold the other's candidates, and those reach them at different times: an
 * answer through a signalling server arrives its latency later, one typed by hand seconds or minutes later. Until
 * the peer's first check arrives we cannot tell a peer that is not checking yet from one whose checks cannot reach
 * us, and a pair that failed because the peer was not ready (its NAT had no mapping for our SYN yet, its TURN
 * server no permission for us, nobody listening) may succeed once it is. So while no check of the peer has
 * arrived, ICE does not fail before `peerWaitMs` after the peer's end-of-candidates, and failed pairs are checked
 * again: 1 s, 2 s, 4 s, then every 8 s after they failed. An S-O check towards a reflexive candidate is not
 * repeated but kept, SYN and all, until the wait ends (the checklist's `timeoutOfCheck`). Measured in the NAT lab
 * with the peer's lines 3 s late (README, "Waiting for a late peer").
 */

/** Pause before each repeated check of a failed pair, by how many repeats it had; the last one repeats. */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000] as const;

/** How long after its failure a pair that failed `retries` times before is checked again. */
export function retryDelayMs(retries: number): number {
  const index = Math.min(Math.max(0, Math.floor(retries)), RETRY_DELAYS_MS.length - 1);
  return RETRY_DELAYS_MS[index] as number;
}
