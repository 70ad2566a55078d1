import { AbortedError } from '../errors.js';

/**
 * One AbortController per candidate pair, owned by the agent: a pair that fails or is pruned aborts its dial
 * and its transaction at once instead of letting them run to their own timeouts. A failed pair may be revived
 * by the peer's check (RFC 8445 §7.3.1.4), so an aborted pair gets a fresh controller on its next check.
 */
export class PairSignals {
  /** Made on the first pair's check: a passive-only server's agent, whose peer dials, never needs it. */
  private controllers: Map<string, AbortController> | undefined;

  /** The signal of the pair's current attempt. */
  signalOf(pairId: string): AbortSignal {
    this.controllers ??= new Map();
    let controller = this.controllers.get(pairId);
    if (!controller || controller.signal.aborted) {
      controller = new AbortController();
      this.controllers.set(pairId, controller);
    }
    return controller.signal;
  }

  /** Cancels what the pair has in flight. */
  abort(pairId: string, reason: string): void {
    const controller = this.controllers?.get(pairId);
    if (!controller) return;
    this.controllers?.delete(pairId);
    controller.abort(new AbortedError(`pair ${pairId}: ${reason}`));
  }

  /** Cancels the pairs the checklist no longer has (pruned beyond maxPairs, or replaced). */
  abortMissing(exists: (pairId: string) => boolean): void {
    if (!this.controllers) return;
    for (const pairId of [...this.controllers.keys()]) {
      if (!exists(pairId)) this.abort(pairId, 'pruned');
    }
  }

  /**
   * Cancels every pair but `keep` (the selected pair, after nomination, at a restart or when the agent ends).
   * `keep`'s controller is let go, not aborted: nothing ever cancels the selected pair's work (its connection is
   * the application's), and a held session then keeps no controller, signal or listener maps (~0.7 KB).
   */
  abortAllBut(keep: string | undefined, reason: string): void {
    if (!this.controllers) return;
    for (const pairId of [...this.controllers.keys()]) {
      if (pairId !== keep) this.abort(pairId, reason);
    }
    this.controllers = undefined;
  }
}
