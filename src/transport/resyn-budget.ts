import { InvalidArgumentError } from '../errors.js';

/** Re-SYNs after a refusal per second, all dials of one budget (an agent) together. */
export const DEFAULT_RESYN_RATE = 1000;
/** Re-SYNs a budget may spend at once before the rate applies. */
export const DEFAULT_RESYN_BURST = 1000;
/** Immediate re-SYNs towards one remote address:port per {@link TARGET_WINDOW_MS}, over all dials to it. */
export const DEFAULT_FAST_RETRIES_PER_TARGET = 2000;

const TARGET_WINDOW_MS = 10_000;
/** Targets remembered at once; past it the oldest window is forgotten (the shared rate still bounds them). */
const MAX_TARGETS = 4096;

/** Options of a {@link ResynBudget}. */
export interface ResynBudgetOptions {
  /** Tokens per second. Default {@link DEFAULT_RESYN_RATE}. */
  ratePerSecond?: number;
  /** Bucket size. Default {@link DEFAULT_RESYN_BURST}. */
  burst?: number;
  /** Immediate re-SYNs per target per 10 s. Default {@link DEFAULT_FAST_RETRIES_PER_TARGET}. */
  perTargetFastRetries?: number;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * The re-SYNs an agent's simultaneous-open dials may send after a refusal: a token bucket shared by every
 * S-O port of the agent, plus a per-target allowance of immediate re-SYNs. The immediate re-SYN is what
 * resolves the RST ping-pong between two RST-filtering NATs (docs/ARCHITECTURE.md, RST ping-pong), but the
 * remote candidates come from the peer: 100 S-O candidates at closed ports of a third party made an agent
 * send ~42,000 SYNs in 2.5 s. The bucket bounds that to `burst + rate × t` whatever the number of candidates,
 * while one dial alone (the RST cell: ~1 re-SYN per ms at ~0 RTT) runs at full speed.
 */
export class ResynBudget {
  private readonly rate: number;
  private readonly burst: number;
  private readonly perTarget: number;
  private readonly now: () => number;
  private readonly targets = new Map<string, { since: number; used: number }>();
  private tokens: number;
  private refilledAt: number;

  constructor(options: ResynBudgetOptions = {}) {
    this.rate = options.ratePerSecond ?? DEFAULT_RESYN_RATE;
    this.burst = options.burst ?? DEFAULT_RESYN_BURST;
    this.perTarget = options.perTargetFastRetries ?? DEFAULT_FAST_RETRIES_PER_TARGET;
    if (!(this.rate > 0) || !Number.isFinite(this.rate))
      throw new InvalidArgumentError('ratePerSecond must be a finite number > 0');
    if (!(this.burst >= 1) || !Number.isFinite(this.burst))
      throw new InvalidArgumentError('burst must be a finite number >= 1');
    if (!Number.isInteger(this.perTarget) || this.perTarget < 0)
      throw new InvalidArgumentError('perTargetFastRetries must be an integer >= 0');
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  /** Takes a token for an immediate re-SYN to `target` when both the bucket and the target allow it. */
  takeFast(target: string): boolean {
    const now = this.now();
    let entry = this.targets.get(target);
    if (entry === undefined || now - entry.since >= TARGET_WINDOW_MS) {
      this.targets.delete(target);
      if (this.targets.size >= MAX_TARGETS) {
        const oldest = this.targets.keys().next().value;
        if (oldest !== undefined) this.targets.delete(oldest);
      }
      entry = { since: now, used: 0 };
      this.targets.set(target, entry);
    }
    if (entry.used >= this.perTarget || this.takeAt(now) > 0) return false;
    entry.used++;
    return true;
  }

  /** Takes a token for a paced re-SYN: 0 when taken, else the ms to wait before asking again. */
  take(): number {
    return this.takeAt(this.now());
  }

  private takeAt(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.rate) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate));
  }
}
