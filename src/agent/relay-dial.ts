import { setTimeout as sleep } from 'node:timers/promises';
import type { CandidatePair } from '../checklist/index.js';
import { SocketError } from '../errors.js';
import { dialActive, type FramedConnection } from '../transport/index.js';
import type { Link } from './link.js';

// The peer's TURN server (RFC 6062) turns away a connection from an address the peer's allocation does not permit
// yet, and the peer permits ours (CreatePermission) only once our candidates reach it, while both sides check as
// soon as they learn the other's candidates: a first check on a pair to the peer's relayed candidate may be turned
// away though the pair works. coturn refuses at the connect (reset) or just after it (closed with no answer to
// our request). When both sides' first checks were turned away, every pair of a relay-only round failed
// (test/agent/restart-stream-relay.test.ts). Such a check is made again, paced, within the check's own time.

/** First pause before checking a peer's relayed candidate again after a refusal (ms); it doubles from there. */
export const RELAY_REDIAL_PAUSE_MS = 25;
/** Longest pause between two attempts (ms). */
export const RELAY_REDIAL_MAX_PAUSE_MS = 200;
/**
 * Attempts after a refusal on one connection that was opened (25+50+100+200·5 ms of pauses, ~1.2 s; the check's
 * timeout ends them sooner): a relay that keeps refusing costs a dozen connections over a check's time, no flood.
 */
export const RELAY_REDIALS = 8;

/** A connection refused or reset as it opened. */
function refused(error: unknown): boolean {
  return (
    error instanceof SocketError &&
    (error.syscallCode === 'ECONNRESET' || error.syscallCode === 'ECONNREFUSED')
  );
}

/** The pause before attempt `n` (0-based) after a refusal. */
function pauseOf(n: number): number {
  return Math.min(RELAY_REDIAL_PAUSE_MS * 2 ** n, RELAY_REDIAL_MAX_PAUSE_MS);
}

/**
 * Dials a peer's passive candidate from our active one; a relayed one again after each refusal at the connect,
 * until `timeoutMs` in all. Other errors, and the last refusal, are thrown; `signal` ends the pauses too.
 */
export async function dialPassive(
  pair: CandidatePair,
  options: { timeoutMs: number; signal: AbortSignal; maxFrameSize?: number },
): Promise<FramedConnection> {
  const deadline = performance.now() + options.timeoutMs;
  const dial = () =>
    dialActive({
      localAddress: pair.local.baseAddress,
      remoteAddress: pair.remote.address,
      remotePort: pair.remote.port,
      timeoutMs: Math.max(1, deadline - performance.now()),
      signal: options.signal,
      maxFrameSize: options.maxFrameSize,
    });
  for (let n = 0; ; n++) {
    try {
      return await dial();
    } catch (error) {
      const pause = pauseOf(n);
      const again = pair.remote.type === 'relay' && refused(error) && performance.now() + pause < deadline;
      if (!again || options.signal.aborted) throw error;
      if (await sleep(pause, false, { signal: options.signal }).catch(() => true)) throw error;
    }
  }
}

/**
 * Checks made again after the peer's relay closed our connection before any authenticated answer (refused just
 * after the connect). One per pool: the count per pair, made on first use.
 */
export class RelayRedials {
  private attempts: Map<string, number> | undefined;
  /** Links whose closing made a check again: their close is no lost connection of the pair (made on first use). */
  private redialled: WeakSet<Link> | undefined;

  /** Whether `link`'s check is being made again on a new connection. */
  retried(link: Link): boolean {
    return this.redialled?.has(link) ?? false;
  }

  /**
   * A check on `pair` over `link` ended without a response. When the link was to the peer's relayed candidate and
   * closed before anything authenticated came on it, `again` runs after a pause (unless `signal` aborts first)
   * and this returns true; otherwise, or once the attempts are used up, false: the check failed.
   */
  retry(pair: CandidatePair, link: Link, signal: AbortSignal, again: () => void): boolean {
    const toRelay = pair.remote.type === 'relay' && pair.remote.tcpType === 'passive';
    if (!toRelay || !link.closed || link.authenticated || signal.aborted) return false;
    const n = this.attempts?.get(pair.id) ?? 0;
    if (n >= RELAY_REDIALS) return false;
    this.attempts ??= new Map();
    this.attempts.set(pair.id, n + 1);
    this.redialled ??= new WeakSet();
    this.redialled.add(link);
    void sleep(pauseOf(n), undefined, { signal })
      .then(again)
      .catch(() => undefined);
    return true;
  }
}
