/** Pause before the first automatic restart: at once, the path is already known to be down. */
const FIRST_DELAY_MS = 0;
/** Pause after the first failed automatic restart; doubled after each further one. */
const BACKOFF_START_MS = 1000;
/** Longest pause between two automatic restarts. */
const BACKOFF_MAX_MS = 30_000;

/**
 * The back-off of `autoRestart`: when the next automatic restart may start. Pure: the agent owns the timer and
 * asks {@link nextDelayMs} each time it arms it.
 */
export class RestartBackoff {
  private attempts = 0;

  /** Delay before the next attempt, counting it as made. */
  nextDelayMs(): number {
    const attempt = this.attempts++;
    if (attempt === 0) return FIRST_DELAY_MS;
    return Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (attempt - 1));
  }

  /** The connection is back: the next loss starts again with an immediate restart. */
  reset(): void {
    this.attempts = 0;
  }
}
