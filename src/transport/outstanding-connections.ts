import createDebug from 'debug';
import type { FramedConnection } from './framed-connection.js';
import { loopClock } from './loop-clock.js';

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
 * A burst of accepts may exceed the cap by this factor until the connections had their first read: beyond it
 * the oldest go at once, so memory stays bounded whatever the accept rate.
 */
const BURST_FACTOR = 4;

/**
 * How long a connection that failed authentication lives after its error answer was written (ms): the answer
 * reaches a peer on any sane round trip, and the connection holds no slot for longer than that.
 */
export const REJECTED_GRACE_MS = 200;

/**
 * The inbound connections of one port that nobody vouched for yet: each is reset unless released within the
 * deadline, and a newcomer at the cap evicts the oldest rather than being refused. Refusing the newest would
 * let an attacker who holds the cap with idle connections keep the real peer out for good; evicting the
 * oldest means the attacker must outpace a peer that authenticates within one round trip of connecting.
 * Eviction goes by tier, oldest first within one: connections that already failed authentication
 * ({@link reject}: answered, only waiting for their reset), then strangers, then connections from an address
 * the peer signalled ({@link expect}), so that a flood never pushes out a connection that may still
 * authenticate while one that cannot is still held. Eviction at the cap waits for the connections just
 * accepted to be read once (two event-loop turns: a socket accepted in one poll phase is read in the next):
 * a peer whose check is already in its socket buffer is not evicted by strangers accepted in the same burst
 * before anyone read it (seen under a flood from the peer's own address on a loaded machine).
 */
export class OutstandingConnections {
  // each tier's insertion order is age order: its first entry is its oldest
  // made on first use and dropped when empty: a server holds one of these per session long after its connection
  // authenticated, and three empty Maps are ~0.5 KB of it
  private rejected: Tier | undefined;
  private strangers: Tier | undefined;
  private expected: Tier | undefined;
  private readonly limit: number;
  private readonly deadlineMs: number;
  private trimScheduled = false;

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

  /** How many connections are handed out and not yet released (rejected ones awaiting their reset included). */
  get size(): number {
    return (this.rejected?.size ?? 0) + (this.strangers?.size ?? 0) + (this.expected?.size ?? 0);
  }

  /** Counts `connection` as a stranger until release() or its 'close', first evicting one at the cap. */
  admit(connection: FramedConnection): void {
    this.trimTo(this.limit * BURST_FACTOR - 1);
    if (this.size >= this.limit) this.scheduleTrim();
    this.strangers ??= new Map();
    this.strangers.set(connection, this.deadline(connection, loopClock.now() + this.deadlineMs));
    connection.once('close', () => this.release(connection));
  }

  /**
   * Resets `connection` at `due` on loop time (see loop-clock.ts): after a stall, timers run before the poll
   * phase that would read the check already waiting in its socket, so a wall-clock deadline would reset a
   * peer that was on time. A timer that fires early on loop time waits for the rest.
   */
  private deadline(connection: FramedConnection, due: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        const left = due - loopClock.now();
        const tier = this.tierOf(connection);
        if (tier === undefined) return;
        if (left > 0) {
          tier.set(connection, this.deadline(connection, due));
          return;
        }
        if (log.enabled)
          log(
            '%s:%d not released within %d ms, reset',
            connection.remoteAddress,
            connection.remotePort,
            this.deadlineMs,
          );
        this.drop(connection);
      },
      Math.max(1, Math.ceil(due - loopClock.now())),
    );
    timer.unref();
    return timer;
  }

  private tierOf(connection: FramedConnection): Tier | undefined {
    if (this.strangers?.has(connection)) return this.strangers;
    return this.expected?.has(connection) ? this.expected : undefined;
  }

  /** `connection` comes from an address the peer signalled: it is evicted only after every stranger. */
  expect(connection: FramedConnection): void {
    const timer = this.strangers?.get(connection);
    if (timer === undefined) return;
    this.strangers = without(this.strangers, connection);
    this.expected ??= new Map();
    this.expected.set(connection, timer);
  }

  /**
   * `connection` failed authentication and was answered: it is reset after {@link REJECTED_GRACE_MS}, and is
   * the first to go when a newcomer needs its slot. False when this port does not count it.
   */
  reject(connection: FramedConnection): boolean {
    if (this.rejected?.has(connection)) return true;
    const timer = this.strangers?.get(connection) ?? this.expected?.get(connection);
    if (timer === undefined) return false;
    this.release(connection);
    const reset = setTimeout(() => this.drop(connection), REJECTED_GRACE_MS);
    reset.unref();
    this.rejected ??= new Map();
    this.rejected.set(connection, reset);
    return true;
  }

  /** Stops counting `connection` (the agent authenticated it and owns it now, or it closed). */
  release(connection: FramedConnection): void {
    const timer =
      this.rejected?.get(connection) ?? this.strangers?.get(connection) ?? this.expected?.get(connection);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.rejected = without(this.rejected, connection);
    this.strangers = without(this.strangers, connection);
    this.expected = without(this.expected, connection);
  }

  /** After the connections accepted by now had their first read, evicts down to the cap. */
  private scheduleTrim(): void {
    if (this.trimScheduled) return;
    this.trimScheduled = true;
    setImmediate(() =>
      setImmediate(() => {
        this.trimScheduled = false;
        this.trimTo(this.limit);
      }),
    );
  }

  /** Evicts the oldest connections, by tier, until at most `max` are held. */
  private trimTo(max: number): void {
    while (this.size > max) {
      const oldest =
        first(this.rejected) ?? first(this.strangers) ?? (first(this.expected) as FramedConnection);
      if (log.enabled)
        log('cap of %d reached: evicting %s:%d', this.limit, oldest.remoteAddress, oldest.remotePort);
      this.drop(oldest);
    }
  }

  private drop(connection: FramedConnection): void {
    this.release(connection);
    connection.reset();
  }
}

type Tier = Map<FramedConnection, NodeJS.Timeout>;

/** `tier` without `connection`; undefined once it is empty (it is made again on its next use). */
function without(tier: Tier | undefined, connection: FramedConnection): Tier | undefined {
  if (tier?.delete(connection) && tier.size === 0) return undefined;
  return tier;
}

function first<K, V>(map: Map<K, V> | undefined): K | undefined {
  return map?.keys().next().value;
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
