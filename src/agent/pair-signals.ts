import { AbortedError } from '../errors.js';

/**
 * One AbortController per candidate pair, owned by the agent: a pair that fails or is pruned aborts its dial
 * and its transaction at once instead of letting them run to their own timeouts. A failed pair may be revived
 * by the peer's check (RFC 8445 §7.3.1.4), so an aborted pair gets a fresh controller on its next check.
 */
export class PairSignals {
  private readonly controllers = new Map<string, AbortController>();

  /** The signal of the pair's current attempt. */
  signalOf(pairId: string): AbortSignal {
    let controller = this.controllers.get(pairId);
    if (!controller || controller.signal.aborted) {
      controller = new AbortController();
      this.controllers.set(pairId, controller);
    }
    return controller.signal;
  }

  /** Cancels what the pair has in flight. */
  abort(pairId: string, reason: string): void {
    const controller = this.controllers.get(pairId);
    if (!controller) return;
    this.controllers.delete(pairId);
    controller.abort(new AbortedError(`pair ${pairId}: ${reason}`));
  }

  /** Cancels the pairs the checklist no longer has (pruned beyond maxPairs, or replaced). */
  abortMissing(exists: (pairId: string) => boolean): void {
    for (const pairId of [...this.controllers.keys()]) {
      if (!exists(pairId)) this.abort(pairId, 'pruned');
    }
  }

  /** Cancels every pair but `keep` (after nomination, or all when the agent ends). */
  abortAllBut(keep: string | undefined, reason: string): void {
    for (const pairId of [...this.controllers.keys()]) {
      if (pairId !== keep) this.abort(pairId, reason);
    }
  }
}
