/**
 * A wake-up closer than this is waited for by turning the event loop (`setImmediate`) rather than a timer (ms):
 * Node's timers count whole milliseconds and fire up to a few tenths late, so a timer for the sub-ms rest of a
 * wait would add most of a millisecond.
 */
export const TURN_WAIT_MS = 1;

/**
 * The agent's one wake-up (the checklist's and consent's next due time, on the loop clock). A timer rounded
 * up to the next whole ms and then fired a few tenths late made Ta (`checkPacingMs`, 5 ms) 5.5-6.5 ms between
 * a check and the nominating one: here the timer is set to the nearest ms and the rest, when it fired early,
 * is waited out turn by turn, so the wake-up comes within a loop turn of its time and never before it
 * (RFC 8445 §14.2: transactions "MUST NOT be sent more often than once every 5 ms").
 *
 * Timers run before the loop reads its sockets: after a stall of the event loop, an answer that arrived in time
 * would still be unread when consent is judged. So when `afterIo()` says consent is due, `fire` waits for that
 * I/O phase (a restart's next check alone does not: it is paced like a connect's).
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly now: () => number,
    private readonly fire: () => void,
  ) {}

  /**
   * Calls `fire` once `now()` reaches `wake` (a wake-up already due: after a timer's turn, as before). `unref`:
   * the wait holds no process alive (consent's, whose socket does that by itself).
   */
  arm(wake: number, unref: boolean, afterIo: () => boolean): void {
    this.clear();
    const rest = wake - this.now();
    if (rest > 0 && rest < TURN_WAIT_MS) {
      this.immediate = setImmediate(() => this.reached(wake, unref, afterIo));
      if (unref) this.immediate.unref();
      return;
    }
    this.timer = setTimeout(() => this.reached(wake, unref, afterIo), rest > 0 ? Math.round(rest) : 0);
    if (unref) this.timer.unref();
  }

  /** Cancels the pending wake-up, if any. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private reached(wake: number, unref: boolean, afterIo: () => boolean): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.now() < wake) {
      this.arm(wake, unref, afterIo);
      return;
    }
    if (!afterIo()) {
      this.fire();
      return;
    }
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.fire();
    });
  }
}
