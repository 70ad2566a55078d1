import createDebug from 'debug';
import type { FramedConnection } from './framed-connection.js';

const log = createDebug('ice-tcp:transport:inbound');

/** Default cap on inbound connections handed out but not yet released (unauthenticated peers cost memory). */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 32;

/** Default time an inbound connection has to be released (its peer authenticated) before it is reset (ms). */
export const DEFAULT_PENDING_DEADLINE_MS = 2500;

/** Limits on a port's inbound connections that no check has authenticated yet. */
export interface PendingLimits {
  /** Cap on connections handed out but not yet released (or closed); a newcomer evicts the oldest. Default 32. */
  maxPendingConnections?: number;
  /** A connection not released this long after it was accepted is reset (ms). Default 2500. */
  pendingDeadlineMs?: number;
}

/**
 * The inbound connections of one port that nobody vouched for yet: each is reset unless released within the
 * deadline, and a newcomer at the cap evicts the oldest rather than being refused. Refusing the newest would
 * let an attacker who holds the cap with idle connections keep the real peer out for good; evicting the
 * oldest means the attacker must outpace a peer that authenticates within one round trip of connecting.
 */
export class OutstandingConnections {
  // insertion order is age order: the first entry is the oldest
  private readonly pending = new Map<FramedConnection, NodeJS.Timeout>();
  private readonly limit: number;
  private readonly deadlineMs: number;

  constructor(
    limit: number = DEFAULT_MAX_PENDING_CONNECTIONS,
    deadlineMs: number = DEFAULT_PENDING_DEADLINE_MS,
  ) {
    this.limit = limit;
    this.deadlineMs = deadlineMs;
  }

  /** Whether inbound connections are taken at all (a cap of 0 refuses every one). */
  get accepting(): boolean {
    return this.limit > 0;
  }

  /** How many connections are handed out and not yet released. */
  get size(): number {
    return this.pending.size;
  }

  /** Counts `connection` until release() or its 'close', first evicting the oldest one at the cap. */
  admit(connection: FramedConnection): void {
    while (this.pending.size >= this.limit) {
      const oldest = this.pending.keys().next().value;
      if (oldest === undefined) break;
      log('cap of %d reached: evicting %s:%d', this.limit, oldest.remoteAddress, oldest.remotePort);
      this.drop(oldest);
    }
    const timer = setTimeout(() => {
      log(
        '%s:%d not released within %d ms, reset',
        connection.remoteAddress,
        connection.remotePort,
        this.deadlineMs,
      );
      this.drop(connection);
    }, this.deadlineMs);
    timer.unref();
    this.pending.set(connection, timer);
    connection.once('close', () => this.release(connection));
  }

  /** Stops counting `connection` (the agent authenticated it and owns it now). */
  release(connection: FramedConnection): void {
    const timer = this.pending.get(connection);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pending.delete(connection);
  }

  private drop(connection: FramedConnection): void {
    this.release(connection);
    connection.reset();
  }
}

/** Validates {@link PendingLimits}; returns what is wrong, or undefined. */
export function pendingLimitsProblem({
  maxPendingConnections: limit,
  pendingDeadlineMs: deadlineMs,
}: PendingLimits): string | undefined {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
    return 'maxPendingConnections must be an integer >= 0';
  if (deadlineMs !== undefined && (!Number.isFinite(deadlineMs) || deadlineMs <= 0))
    return 'pendingDeadlineMs must be a number > 0';
  return undefined;
}
