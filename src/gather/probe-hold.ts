import createDebug from 'debug';

const log = createDebug('ice-tcp:gather:predicted');

/**
 * Longest time the agent's checks are held while sequential prediction measures the NAT's step. The probes
 * take two round trips to the STUN server (connect, Binding); the limit covers a lost SYN's 1 s retransmission
 * of a slow srflx query before them, and bounds what a silent server can cost.
 */
export const PREDICTION_HOLD_LIMIT_MS = 1000;

/**
 * Keeps the agent's check flows off the NAT while sequential prediction measures its step: every new flow
 * takes a port of a sequential NAT, so one falling between our probes makes the step look random, and each
 * one after the probes takes a predicted port (README, "How it gets through NATs"). Begun once,
 * ended once: by the gatherer when the probes are done, or by the limit.
 */
export class ProbeHold {
  private startedAt: number | undefined;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onHold: ((held: boolean) => void) | undefined,
    private readonly limitMs = PREDICTION_HOLD_LIMIT_MS,
  ) {}

  /** Asks the agent to hold its checks (once; no-op without a listener or after `end`). */
  begin(): void {
    if (this.startedAt !== undefined || this.ended || !this.onHold) return;
    this.startedAt = performance.now();
    this.onHold(true);
    this.timer = setTimeout(() => this.end('hold limit reached'), this.limitMs);
  }

  /** Lets the checks go (idempotent); logs how long they were held. */
  end(reason = 'probes done'): void {
    if (this.ended) return;
    this.ended = true;
    if (this.startedAt === undefined) return;
    clearTimeout(this.timer);
    log('checks held %d ms: %s', Math.round(performance.now() - this.startedAt), reason);
    this.onHold?.(false);
  }
}
