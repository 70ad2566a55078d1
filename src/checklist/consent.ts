import { newTransactionId } from '../stun/integrity.js';

/** Timing of consent freshness (RFC 7675 §5.1). */
export interface ConsentConfig {
  /** Mean pause between two consent checks (ms); each pause is this × a uniform factor in [0.8, 1.2]. */
  intervalMs: number;
  /** Consent expires this long after the last authenticated success response (ms). */
  timeoutMs: number;
  /** Uniform in [0, 1): the jitter's source (tests pass their own). Default `Math.random`. */
  random?: () => number;
  /** A fresh 96-bit STUN transaction id per check. Default the STUN layer's pooled CSPRNG ids (`newTransactionId`). */
  newTransactionId?: () => Buffer;
  /**
   * ice-lite: send no checks (RFC 7675: a lite agent answers consent checks, it need not send any); the peer's authenticated checks on the
   * pair ({@link ConsentFreshness.onPeerCheck}) keep consent, which expires `timeoutMs` after the last one.
   */
  peerDriven?: boolean;
}

/** What the consent machine asks its driver to do, returned by {@link ConsentFreshness.poll}. */
export type ConsentAction =
  /** Send a consent check (a Binding request like an ICE check, no USE-CANDIDATE) with this transaction id. */
  | { type: 'check'; transactionId: Buffer }
  /** Half-open: send a keepalive (RFC 8445 §11), which a peer that closed its socket answers with RST. */
  | { type: 'keepalive' }
  /** A check has gone unanswered for a whole interval: the pair is disconnected (maybe for a moment). */
  | { type: 'disconnected'; unansweredMs: number }
  /** An answer came after `disconnected`: the pair works again. */
  | { type: 'restored' }
  /** Consent is gone for good: stop sending on the pair. */
  | { type: 'lost'; reason: 'expired'; sinceSuccessMs: number }
  | { type: 'lost'; reason: 'revoked'; stunCode: number | undefined };

/**
 * Where consent stands. `fresh`: every check older than an interval was answered. `unanswered`: one was not
 * (the driver reported `disconnected`). `half-open`: the peer ended its direction, so it cannot answer; two
 * keepalives look for a peer that is gone, and consent neither refreshes nor expires. `suspended`: our direction ended, nothing
 * can be sent. `transport-lost`: the connection is gone, no check is sent, consent still expires on time.
 * `lost`: final.
 */
export type ConsentState =
  | 'idle'
  | 'fresh'
  | 'unanswered'
  | 'half-open'
  | 'suspended'
  | 'transport-lost'
  | 'lost';

/** Factors of the uniform jitter around the interval (RFC 7675 §5.1: "0.8 and 1.2 times the basic period"). */
const JITTER_MIN = 0.8;
const JITTER_SPAN = 0.4;

/**
 * Consent freshness of one selected pair (RFC 7675) as a pure state machine: time is passed in, it has no
 * timers and no I/O. The driver sends the checks it asks for, reports their answers, polls it and wakes it at
 * {@link nextWakeup}.
 */
export class ConsentFreshness {
  private stateValue: ConsentState = 'idle';
  private lastSuccess = 0;
  private nextCheckAt: number | undefined;
  /** Half-open: when the keepalive that reveals the first one's RST goes out. */
  private confirmAt: number | undefined;
  /** Sending time of the oldest check sent since the last success: the one whose silence counts. */
  private oldestUnanswered: number | undefined;
  private readonly pending: ConsentAction[] = [];
  private readonly random: () => number;
  private readonly newTransactionId: () => Buffer;
  /** Consent checks sent so far. */
  checksSent = 0;
  /** Authenticated success responses received so far. */
  checksAnswered = 0;

  constructor(private readonly config: ConsentConfig) {
    this.random = config.random ?? Math.random;
    this.newTransactionId = config.newTransactionId ?? newTransactionId;
  }

  /** Where consent stands. */
  get state(): ConsentState {
    return this.stateValue;
  }

  /** When the last authenticated success (or the start) was seen, in the driver's clock. */
  get lastSuccessAt(): number {
    return this.lastSuccess;
  }

  /** The pair was selected at `now`: ICE's successful check is the first consent (RFC 7675 §5.1). */
  start(now: number): void {
    if (this.stateValue !== 'idle') return;
    this.stateValue = 'fresh';
    this.lastSuccess = now;
    if (!this.config.peerDriven) this.nextCheckAt = now + this.jitteredInterval();
  }

  /** Peer-driven (lite) consent: the peer's authenticated check on the pair is a sign of its consent. */
  onPeerCheck(now: number): void {
    if (!this.config.peerDriven || (this.stateValue !== 'fresh' && this.stateValue !== 'unanswered')) return;
    this.lastSuccess = Math.max(this.lastSuccess, now);
  }

  /** An authenticated success response to one of our consent checks, whichever one. */
  onSuccess(now: number): void {
    if (this.stateValue === 'idle' || this.stateValue === 'lost') return;
    this.checksAnswered += 1;
    this.lastSuccess = Math.max(this.lastSuccess, now);
    this.oldestUnanswered = undefined;
    if (this.stateValue === 'unanswered') {
      this.stateValue = 'fresh';
      this.pending.push({ type: 'restored' });
    }
  }

  /**
   * An error response (or a success that failed integrity). Only an authenticated error revokes consent, at
   * once (RFC 7675 §5.1); anything unauthenticated may come from anyone on the path and is ignored.
   */
  onFailure(_now: number, authenticated: boolean, stunCode?: number): void {
    if (!authenticated || this.stateValue === 'idle' || this.stateValue === 'lost') return;
    this.stateValue = 'lost';
    this.pending.push({ type: 'lost', reason: 'revoked', stunCode });
  }

  /**
   * The peer ended its direction (TCP half-close): it can no longer answer, so checks stop and consent holds.
   * Two keepalives find a peer whose socket is already gone: one at once, one `confirmAfterMs` later (a socket
   * that saw the peer's FIN no longer reads, so the RST the first one draws shows only as the second one's write
   * error). No more after that: the peer's lingering close() counts our bytes as life (README, "Ending a
   * connection"), and TCP keepalive watches the rest.
   */
  onPeerEnded(now: number, confirmAfterMs: number): void {
    if (this.stateValue !== 'fresh' && this.stateValue !== 'unanswered') return;
    this.stateValue = 'half-open';
    this.nextCheckAt = now;
    this.confirmAt = now + confirmAfterMs;
  }

  /** Our direction ended: nothing can be sent or answered any more, so nothing is asked and nothing expires. */
  suspend(): void {
    const s = this.stateValue;
    if (s === 'fresh' || s === 'unanswered' || s === 'half-open') this.stateValue = 'suspended';
  }

  /** The connection is gone: no more checks; consent expires on time unless it is lost already. */
  onTransportLost(): void {
    if (this.stateValue === 'idle' || this.stateValue === 'lost') return;
    this.stateValue = 'transport-lost';
  }

  /** Advances to `now` and returns what to do. */
  poll(now: number): ConsentAction[] {
    const actions = this.pending.splice(0);
    const s = this.stateValue;
    if (s === 'idle' || s === 'lost' || s === 'suspended') return actions;
    if (s === 'half-open') {
      if (this.nextCheckAt !== undefined && now >= this.nextCheckAt) {
        this.nextCheckAt = this.confirmAt;
        this.confirmAt = undefined;
        actions.push({ type: 'keepalive' });
      }
      return actions;
    }
    if (now >= this.lastSuccess + this.config.timeoutMs) {
      this.stateValue = 'lost';
      actions.push({ type: 'lost', reason: 'expired', sinceSuccessMs: now - this.lastSuccess });
      return actions;
    }
    if (s === 'transport-lost') return actions;
    const oldest = this.oldestUnanswered;
    if (s === 'fresh' && oldest !== undefined && now >= oldest + this.config.intervalMs) {
      this.stateValue = 'unanswered';
      actions.push({ type: 'disconnected', unansweredMs: now - oldest });
    }
    if (this.nextCheckAt !== undefined && now >= this.nextCheckAt) {
      this.checksSent += 1;
      this.oldestUnanswered ??= now;
      this.nextCheckAt = now + this.jitteredInterval();
      actions.push({ type: 'check', transactionId: this.newTransactionId() });
    }
    return actions;
  }

  /** When {@link poll} has something to do next; undefined: nothing until an input arrives. */
  nextWakeup(): number | undefined {
    if (this.pending.length > 0) return 0; // due at once: any time in the past
    const s = this.stateValue;
    if (s === 'idle' || s === 'lost' || s === 'suspended') return undefined;
    if (s === 'half-open') return this.nextCheckAt;
    const expiry = this.lastSuccess + this.config.timeoutMs;
    if (s === 'transport-lost') return expiry;
    let wake = Math.min(expiry, this.nextCheckAt ?? expiry);
    if (s === 'fresh' && this.oldestUnanswered !== undefined)
      wake = Math.min(wake, this.oldestUnanswered + this.config.intervalMs);
    return wake;
  }

  private jitteredInterval(): number {
    return this.config.intervalMs * (JITTER_MIN + JITTER_SPAN * this.random());
  }
}
