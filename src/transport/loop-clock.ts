/** How often the clock looks at the event loop (ms). */
const TICK_MS = 50;
/** A tick this much later than due is a stall; less is ordinary jitter and counts as time (ms). */
const SLACK_MS = 100;
/**
 * The ticker stops after this long without a reader, so an idle process is not woken for nothing (ms). Longer
 * than the deadlines read from it (consent's 5 s interval, its 30 s timeout): a stall while it is stopped counts.
 */
const IDLE_STOP_MS = 60_000;

/**
 * Time the event loop was free to run: the wall clock minus the part of each stall beyond {@link SLACK_MS}.
 * Deadlines judged on it (a check's timeout, a connection's first request) do not expire while the loop
 * was busy with other sessions: an answer that arrived in time but sat unread in a socket during a stall is
 * read before the deadline is judged. A peer that really is silent is found out as late as the stalls add up.
 *
 * During a stall no tick runs, so `now()` stops at the last tick plus the slack, and moves on from there once
 * the loop turns again: it is continuous and never goes back. The ticker is an unref'd interval that runs
 * while the clock is read and stops when nobody read it for {@link IDLE_STOP_MS}.
 */
export class LoopClock {
  private stalled = 0;
  private lastTick = 0;
  private lastRead = 0;
  /** Stops the ticker; undefined while it is stopped. */
  private stopTicker: (() => void) | undefined;

  /** `read` is the wall clock; `startTicker` calls `tick` every {@link TICK_MS} until the returned stop is called. */
  constructor(
    private readonly read: () => number = () => performance.now(),
    private readonly startTicker: (tick: () => void) => () => void = intervalTicker,
  ) {}

  /** Milliseconds on the wall clock's scale, minus the stalls so far. */
  now(): number {
    const real = this.read();
    this.lastRead = real;
    if (this.stopTicker === undefined) {
      this.lastTick = real;
      this.stopTicker = this.startTicker(() => this.tick());
      return real - this.stalled;
    }
    return real - this.stalled - Math.max(0, this.overdue(real));
  }

  /** Milliseconds of stall left out so far. */
  get stalledMs(): number {
    return this.stalled;
  }

  /** One look at the loop: how late this tick is beyond the slack is a stall. */
  tick(): void {
    const real = this.read();
    const overdue = this.overdue(real);
    if (overdue > 0) this.stalled += overdue;
    this.lastTick = real;
    if (real - this.lastRead > IDLE_STOP_MS && this.stopTicker !== undefined) {
      this.stopTicker();
      this.stopTicker = undefined;
    }
  }

  private overdue(real: number): number {
    return real - this.lastTick - TICK_MS - SLACK_MS;
  }
}

function intervalTicker(tick: () => void): () => void {
  const timer = setInterval(tick, TICK_MS).unref();
  return () => clearInterval(timer);
}

/** The process's one loop clock: every agent and mux of the process judges its deadlines on it. */
export const loopClock = new LoopClock();
