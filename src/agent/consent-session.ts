import createDebug from 'debug';
import { type ConsentAction, ConsentFreshness } from '../checklist/consent.js';
import { ConnectionLostError, ConsentLostError, type IceTcpError } from '../errors.js';
import type { StunMessage } from '../stun/index.js';
import type { Link } from './link.js';

const log = createDebug('ice-tcp:agent:consent');

/**
 * How long the reset of a relayed connection waits for its allocation to be reported lost before it counts as a
 * plain reset: the server resets the control and data connections together, and which of the two resets is
 * read first is chance (ms; well inside the 100 ms in which a lost connection must show).
 */
export const RELAY_LOSS_GRACE_MS = 20;

/** What became of the selected pair, for the agent's state. */
export type PathEvent =
  /** Maybe transient: a consent check unanswered for an interval, or the connection lost. */
  | { type: 'disconnected'; reason: ConnectionLostError }
  /** An answer came back after `disconnected`. */
  | { type: 'restored' }
  /** Final: consent lost (`ConsentLostError`), or the connection lost and consent expired meanwhile. */
  | { type: 'failed'; reason: IceTcpError };

/** What a {@link ConsentSession} needs from the agent. */
export interface ConsentSessionConfig {
  /** The selected pair's link: its connection, STUN transactions and frame dispatch. */
  link: Link;
  /** `consentIntervalMs`: mean pause between checks, and the TCP keepalive idle time. */
  intervalMs: number;
  /** `consentTimeoutMs`: consent expires this long after the last authenticated success. */
  timeoutMs: number;
  /** The pair's round-trip time as its check measured it, when known. */
  rttMs: number | undefined;
  /** A consent check's bytes with this transaction id: the agent's ICE check of the pair, no USE-CANDIDATE. */
  buildCheck(transactionId: Buffer): Buffer;
  /** Whether an answer carries a valid MESSAGE-INTEGRITY from the peer (its password). */
  authentic(response: StunMessage): boolean;
  /** A keepalive indication signed with our credentials (RFC 8445 §11). */
  keepalive(): Buffer;
  /** ice-lite: no checks of ours; the peer's checks keep consent (see ConsentConfig.peerDriven). */
  peerDriven?: boolean;
  /**
   * For a pair on our TURN allocation: why the allocation was lost, once it was. A lost allocation resets its
   * relayed connections, and the connection's reset may be read before the control connection's.
   */
  relayLost?: () => IceTcpError | undefined;
  /** The agent's clock. */
  now(): number;
  /** Something happened on the wire: the agent polls the session now. */
  wake(): void;
}

/**
 * Consent freshness (RFC 7675) and failure detection of one selected pair's connection: runs the pure
 * {@link ConsentFreshness} machine on the link, watches the connection's end, close and errors, and turns all of
 * it into {@link PathEvent}s. It has no timer: the agent polls it and sleeps until {@link nextWakeup}.
 * One per selected link, so a connection that later moves to a new path gets a fresh session there.
 */
export class ConsentSession {
  private readonly machine: ConsentFreshness;
  /** Checks waiting for an answer, oldest first (cancelled by transaction id: no AbortController per check). */
  private readonly outstanding: Array<{ sentAt: number; transactionId: Buffer }> = [];
  private readonly events: PathEvent[] = [];
  /** Set once the connection is gone: the reason of `disconnected`, and of `failed` when consent then expires. */
  private lost: ConnectionLostError | undefined;
  private socketError: IceTcpError | undefined;
  /** A relayed connection's reset waits until then for its allocation's verdict ({@link RELAY_LOSS_GRACE_MS}). */
  private relayVerdictAt: number | undefined;
  private stopped = false;
  private readonly onEnd = () => this.onPeerEnd();
  private readonly onError = (error: IceTcpError) => {
    this.socketError ??= error;
  };
  private readonly onClose = (hadError: boolean) => this.onConnectionClose(hadError);

  constructor(private readonly config: ConsentSessionConfig) {
    this.machine = new ConsentFreshness({
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      peerDriven: config.peerDriven,
    });
    const connection = config.link.connection;
    connection.on('end', this.onEnd);
    connection.on('error', this.onError);
    connection.on('close', this.onClose);
    connection.setKeepAlive(config.intervalMs);
  }

  /** Consent checks sent and answered so far. */
  get stats(): { checksSent: number; checksAnswered: number } {
    return { checksSent: this.machine.checksSent, checksAnswered: this.machine.checksAnswered };
  }

  /** The pair was selected at `now`: its nominating check is the first consent. */
  start(now: number): void {
    this.machine.start(now);
  }

  /** The peer's authenticated check arrived on this pair: consent of a lite agent (peer-driven). */
  onPeerCheck(now: number): void {
    if (!this.stopped) this.machine.onPeerCheck(now);
  }

  /** Sends the checks that are due and returns what changed. */
  poll(now: number): PathEvent[] {
    if (this.relayVerdictAt !== undefined && (this.allocationLoss() || now >= this.relayVerdictAt))
      this.judgeLoss();
    const out = this.events.splice(0);
    if (this.stopped) return out;
    // our direction ended (close(), stream end()): no check can leave, none of the peer's can be answered
    if (this.lost === undefined && !this.config.link.connection.writable) this.machine.suspend();
    this.retire(now);
    for (const action of this.machine.poll(now)) this.apply(action, out, now);
    return out;
  }

  /** When {@link poll} has something to do; undefined: nothing until the wire says something. */
  nextWakeup(): number | undefined {
    if (this.stopped) return undefined;
    const wake = this.machine.nextWakeup();
    const verdict = this.relayVerdictAt;
    return verdict === undefined ? wake : Math.min(verdict, wake ?? verdict);
  }

  /** No more checks or events; pending checks are cancelled. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const check of this.outstanding.splice(0))
      this.config.link.cancel(check.transactionId, 'consent stopped');
    const connection = this.config.link.connection;
    connection.off('end', this.onEnd);
    connection.off('error', this.onError);
    connection.off('close', this.onClose);
  }

  private apply(action: ConsentAction, out: PathEvent[], now: number): void {
    switch (action.type) {
      case 'check':
        this.sendCheck(action.transactionId, now);
        break;
      case 'keepalive':
        this.config.link.send(this.config.keepalive());
        break;
      case 'disconnected':
        log('no answer to a consent check for %d ms', Math.round(action.unansweredMs));
        out.push({
          type: 'disconnected',
          reason: new ConnectionLostError(
            'unanswered',
            `no answer to a consent check for ${Math.round(action.unansweredMs)} ms`,
          ),
        });
        break;
      case 'restored':
        log('consent check answered again');
        out.push({ type: 'restored' });
        break;
      case 'lost':
        out.push({ type: 'failed', reason: this.lost ?? consentLost(action) });
        this.stop();
        break;
    }
  }

  /**
   * A check older than the consent timeout can no longer refresh anything (RFC 7675 counts answers to the
   * checks of the last timeout): its transaction goes, so a peer that answers some checks and not others
   * cannot make them pile up over a long session.
   */
  private retire(now: number): void {
    while (
      this.outstanding.length > 0 &&
      (this.outstanding[0]?.sentAt ?? now) + this.config.timeoutMs <= now
    ) {
      const check = this.outstanding.shift();
      if (check) this.config.link.cancel(check.transactionId, 'consent check retired');
    }
  }

  private sendCheck(transactionId: Buffer, now: number): void {
    const bytes = this.config.buildCheck(transactionId);
    const check = { sentAt: now, transactionId };
    this.outstanding.push(check);
    // No timer of its own: TCP retransmits, the machine judges silence; retire(), stop() and the link's close end it.
    this.config.link.request(bytes, transactionId, {}, (response) => {
      const index = this.outstanding.indexOf(check);
      if (index >= 0) this.outstanding.splice(index, 1);
      if (this.stopped || response === undefined) return;
      const now = this.config.now();
      if (response.isSuccess() && this.config.authentic(response)) this.machine.onSuccess(now);
      else
        this.machine.onFailure(
          now,
          response.isError() && this.config.authentic(response),
          response.errorCode()?.code,
        );
      this.config.wake();
    });
  }

  /**
   * The peer ended its direction: it can no longer answer, so consent pauses. A peer that closed its socket
   * after its FIN answers any byte with RST, so keepalives find it within a round trip of the next one.
   */
  private onPeerEnd(): void {
    this.machine.onPeerEnded(this.config.now(), confirmDelayMs(this.config.rttMs));
    this.config.wake();
  }

  private onConnectionClose(hadError: boolean): void {
    const connection = this.config.link.connection;
    if (!hadError && this.socketError === undefined && connection.peerEnded) {
      this.lost = new ConnectionLostError('closed', 'both directions of the selected connection ended');
      this.events.push({ type: 'disconnected', reason: this.lost }, { type: 'failed', reason: this.lost });
      log('%s', this.lost.message);
      this.stop();
    } else {
      this.machine.onTransportLost();
      if (this.config.relayLost && !this.allocationLoss()) {
        this.relayVerdictAt = this.config.now() + RELAY_LOSS_GRACE_MS;
        log('relayed connection lost: waiting %d ms for its allocation', RELAY_LOSS_GRACE_MS);
      } else {
        this.judgeLoss();
      }
    }
    this.config.wake();
  }

  /** Our TURN allocation's loss, when the connection ended with it or the allocation reported it since. */
  private allocationLoss(): IceTcpError | undefined {
    const error = this.socketError;
    return error?.code === 'ERR_TURN_ALLOCATION_LOST' ? error : this.config.relayLost?.();
  }

  /** The connection is gone, not cleanly: `disconnected`, with the lost allocation as the reason when it was. */
  private judgeLoss(): void {
    this.relayVerdictAt = undefined;
    const error = this.socketError;
    const allocationLost = this.allocationLoss();
    const why = allocationLost?.message ?? error?.message ?? 'closed before both sides ended';
    this.lost = new ConnectionLostError(
      allocationLost ? 'relay-lost' : 'reset',
      `selected connection lost: ${why}`,
      {
        cause: allocationLost ?? error,
      },
    );
    this.events.push({ type: 'disconnected', reason: this.lost });
    log('%s', this.lost.message);
  }
}

/** Unknown round trip: as long as a slow intercontinental one. */
const DEFAULT_RTT_MS = 100;

/** Two round trips after the first keepalive (its RST back, with room), never under 10 ms. */
function confirmDelayMs(rttMs: number | undefined): number {
  return Math.max(10, 2 * (rttMs ?? DEFAULT_RTT_MS));
}

function consentLost(action: Extract<ConsentAction, { type: 'lost' }>): ConsentLostError {
  if (action.reason === 'revoked') {
    return new ConsentLostError(
      'revoked',
      `the peer revoked consent (error ${action.stunCode ?? '?'})`,
      action.stunCode,
    );
  }
  return new ConsentLostError(
    'expired',
    `no answer to consent checks for ${Math.round(action.sinceSuccessMs)} ms`,
  );
}
