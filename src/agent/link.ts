import createDebug from 'debug';
import type { TcpType } from '../candidate/types.js';
import { isStunFrame } from '../framing/index.js';
import { StunMessage } from '../stun/index.js';
import type { FramedConnection } from '../transport/index.js';

const log = createDebug('ice-tcp:link');

/** Data frames held on a link whose pair is not selected yet, before its socket is paused. */
const MAX_HELD_FRAMES = 256;

/** Called for a STUN response; `undefined` means the transaction timed out or the link closed. */
export type ResponseHandler = (response: StunMessage | undefined, reason?: string) => void;

/** What the agent must decide about a frame that is not STUN. */
export type DataVerdict = 'hold' | 'reject';

/** The agent's side of a link: where requests and unexpected data go. */
export interface LinkOwner {
  onRequest(link: Link, request: StunMessage): void;
  onDataBeforeSelection(link: Link): DataVerdict;
  onLinkClosed(link: Link): void;
}

/**
 * One TCP connection as the agent sees it while checking: which local candidate it belongs to, which pair it
 * carries (once known), its STUN transactions, and the data frames held until the pair is selected.
 * STUN answers are dispatched synchronously, so that a pair is marked succeeded before the data frames that
 * follow the answer in the same TCP segment are looked at.
 */
export class Link {
  /** The candidate pair this connection carries, once a check tied it to one. */
  pairId: string | undefined;
  /** True after a check on this connection authenticated in either direction. */
  authenticated = false;
  /** Set when the application owns the connection: data frames are no longer the link's business. */
  handedOff = false;
  private readonly transactions = new Map<string, { handler: ResponseHandler; timer: NodeJS.Timeout }>();
  private held: Buffer[] = [];
  private closedFlag = false;

  constructor(
    readonly connection: FramedConnection,
    /** The local candidate whose socket this is (the base for srflx/predicted ones). */
    readonly localCandidateId: string,
    /** What the remote end is known to be: 'active' when it dialled our passive port, 'so' for S-O. */
    readonly remoteTcpType: TcpType | undefined,
    private readonly owner: LinkOwner,
  ) {
    connection.on('frame', (frame) => this.onFrame(frame));
    connection.on('close', () => this.onClose());
    connection.on('error', (err) => log('link %s error %s', this.describe(), err.message));
  }

  /** The peer's transport address as seen on this connection. */
  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  /** The peer's port as seen on this connection. */
  get remotePort(): number {
    return this.connection.remotePort;
  }

  /** True once the connection ended. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Sends a request and calls `handler` once with the response, or with undefined after `timeoutMs`.
   * `retransmitMs`: times after the first send at which the same request goes out again while unanswered
   * (a relay may lose bytes that reach it before it is bound; over plain TCP a check is sent once).
   */
  request(
    bytes: Buffer,
    transactionId: Buffer,
    timeoutMs: number,
    retransmitMs: readonly number[] | undefined,
    handler: ResponseHandler,
  ): void {
    if (this.closedFlag) {
      handler(undefined, 'connection closed');
      return;
    }
    const key = transactionId.toString('hex');
    const resends = (retransmitMs ?? [])
      .filter((ms) => ms < timeoutMs)
      .map((ms) =>
        setTimeout(() => {
          if (this.transactions.has(key)) this.write(bytes);
        }, ms),
      );
    const timer = setTimeout(() => {
      for (const t of resends) clearTimeout(t);
      this.transactions.delete(key);
      handler(undefined, 'check timed out');
    }, timeoutMs);
    this.transactions.set(key, { handler, timer });
    if (!this.write(bytes)) {
      this.transactions.delete(key);
      clearTimeout(timer);
      handler(undefined, 'connection closed');
    }
  }

  /** Sends a response or indication (dropped when the connection is gone). */
  send(bytes: Buffer): void {
    this.write(bytes);
  }

  /** Data frames held until selection, handed to the application exactly once. */
  takeHeldFrames(): Buffer[] {
    const frames = this.held;
    this.held = [];
    return frames;
  }

  /** Handles a STUN frame; returns true when the frame was STUN (so the application never sees it). */
  handleControlFrame(frame: Buffer): boolean {
    if (!isStunFrame(frame)) return false;
    let message: StunMessage;
    try {
      message = StunMessage.decode(frame);
    } catch (err) {
      log('link %s: undecodable STUN frame dropped: %s', this.describe(), (err as Error).message);
      return true;
    }
    if (message.isRequest()) {
      this.owner.onRequest(this, message);
    } else if (message.isSuccess() || message.isError()) {
      const key = message.transactionId.toString('hex');
      const pending = this.transactions.get(key);
      if (pending) {
        this.transactions.delete(key);
        clearTimeout(pending.timer);
        pending.handler(message);
      }
    }
    return true;
  }

  /** Ends the connection with RST (abandoned or failed pair). */
  reset(): void {
    this.connection.reset();
    this.onClose();
  }

  /** A short description for logs. */
  describe(): string {
    const c = this.connection;
    return `${c.localAddress}:${c.localPort}->${c.remoteAddress}:${c.remotePort}`;
  }

  private write(bytes: Buffer): boolean {
    if (this.closedFlag || this.connection.closed) return false;
    try {
      this.connection.sendFrame(bytes);
      return true;
    } catch (err) {
      // the socket went away between the check above and the write: the 'close' event follows
      log('link %s: write failed: %s', this.describe(), (err as Error).message);
      return false;
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.handleControlFrame(frame) || this.handedOff) return;
    if (this.owner.onDataBeforeSelection(this) === 'reject') {
      log('link %s: data before its pair succeeded, reset', this.describe());
      this.reset();
      return;
    }
    this.held.push(frame);
    if (this.held.length >= MAX_HELD_FRAMES) this.connection.pause();
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [key, t] of this.transactions) {
      clearTimeout(t.timer);
      this.transactions.delete(key);
      t.handler(undefined, 'connection closed');
    }
    this.owner.onLinkClosed(this);
  }
}
