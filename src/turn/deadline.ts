import { abortReason } from '../errors.js';

/** One overall time budget for a multi-step operation, merged with the caller's AbortSignal. */
export interface Deadline {
  /** Aborts on timeout (reason: the error from `onTimeout`) or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Stops the timer and detaches from the caller's signal. */
  dispose(): void;
}

/** Starts a {@link Deadline}; `onTimeout` builds the error the operation fails with when time runs out. */
export function startDeadline(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  onTimeout: () => Error,
): Deadline {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(abortReason(outer as AbortSignal));
  const timer = setTimeout(() => controller.abort(onTimeout()), timeoutMs);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

/**
 * When to refresh something that lives `lifetimeSeconds`: at half the lifetime or 60 s before the end,
 * whichever is earlier (the latter only when it is still in the future), never sooner than 1 s.
 */
export function refreshDelayMs(lifetimeSeconds: number): number {
  const half = lifetimeSeconds / 2;
  const margin = lifetimeSeconds - 60;
  const seconds = margin > 0 ? Math.min(half, margin) : half;
  return Math.max(1, seconds) * 1000;
}
