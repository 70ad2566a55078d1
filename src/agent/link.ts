import createDebug from 'debug';
import type { TcpType } from '../candidate/types.js';
import { ClosedError, StunTransactionError } from '../errors.js';
import { isStunFrame } from '../framing/index.js';
import { StunAttr, StunMessage } from '../stun/index.js';
import { StunTransactions, type TransactionOptions } from '../stun/transactions.js';
import { type FramedConnection, REJECTED_GRACE_MS } from '../transport/index.js';

const log = createDebug('ice-tcp:pool:link');

/** Data frames held on a link whose pair is not selected yet, before its socket is paused. */
const MAX_HELD_FRAMES = 256;

/** Called for a STUN response; `undefined` means the transaction timed out or the link closed. */
export type ResponseHandler = (response: StunMessage | undefined, reason?: string) => void;

/** What the agent must decide about a frame that is not STUN. */
export type DataVerdict = 'hold' | 'reject';

/** The agent's side of a link: where requests and unexpected data go. */
export interface LinkOwner {
  onRequest(link: Link, request: StunMessage): void;
  /** Whether a request or indication is signed with this session's credentials (ICE's own, not data). */
  isOwnMessage(message: StunMessage): boolean;
  onDataBeforeSelection(link: Link): DataVerdict;
  onLinkClosed(link: Link): void;
  /** A frame from the network was dropped as unusable (counted in the agent's stats). */
  onInputDropped(link: Link, reason: string): void;
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
  /**
   * True once a stranger failed authentication here and was answered ({@link reject}): the connection only
   * waits for its reset.
   */
  get rejected(): boolean {
    return this.rejectedFlag;
  }
  private readonly transactions = new StunTransactions<StunMessage>((bytes) => this.write(bytes));
  private held: Buffer[] = [];
  private closedFlag = false;
  private rejectedFlag = false;

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
    connection.on('error', (err) => {
      if (log.enabled) log('link %s error %s', this.describe(), err.message);
    });
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
   * Sends a request and calls `handler` once with the response, or with undefined and the reason when the
   * transaction times out, is aborted or the link closes. A check is given no timeout: the checklist's expiry
   * is its clock, and the pair's signal cancels it. A relay may lose bytes that reach it before it is bound,
   * hence `retransmitMs`; over plain TCP a check is sent once.
   */
  request(bytes: Buffer, transactionId: Buffer, options: TransactionOptions, handler: ResponseHandler): void {
    if (this.closedFlag) {
      handler(undefined, 'connection closed');
      return;
    }
    this.transactions.start(
      bytes,
      transactionId,
      { timeoutError: () => new StunTransactionError('check timed out'), ...options },
      (result) => {
        if ('response' in result) handler(result.response);
        else handler(undefined, result.error.message);
      },
    );
  }

  /** Ends the request `transactionId` if it still waits: its handler gets undefined and `reason`. */
  cancel(transactionId: Buffer, reason: string): void {
    this.transactions.cancel(transactionId, new StunTransactionError(reason));
  }

  /** Sends a response or indication (dropped when the connection is gone). */
  send(bytes: Buffer): void {
    this.write(bytes);
  }

  /**
   * Sends on the next event-loop turn, unless the connection ended meanwhile: for the answer to a stranger's
   * failed check. A flood's connections are often reset right behind their check, and that RST is read in the
   * same turn as the check: writing at once would fail, and a failed write costs Node an error and its stack
   * trace (measured under a flood of bad credentials: a fifth of the victim's read path).
   */
  sendSoon(bytes: Buffer): void {
    setImmediate(() => this.write(bytes));
  }

  /** Data frames held until selection, handed to the application exactly once. */
  takeHeldFrames(): Buffer[] {
    const frames = this.held;
    this.held = [];
    return frames;
  }

  /**
   * Takes the frame if it is ICE's own STUN on this connection and returns true; false means it is data.
   * Before hand-off any STUN with a valid FINGERPRINT is ICE's (forged checks are answered 400/401). After
   * hand-off only a response to our transaction or a message signed with this session's credentials is:
   * every other frame belongs to the application, whatever its first bytes (it may tunnel STUN itself).
   * Never throws: a frame that trips the ICE logic resets this connection, not the process.
   */
  handleControlFrame(frame: Buffer): boolean {
    if (!isStunFrame(frame)) return false;
    try {
      return this.dispatch(frame);
    } catch (err) {
      log('link %s: frame broke the ICE logic, reset: %s', this.describe(), (err as Error).stack);
      this.owner.onInputDropped(this, `internal error: ${(err as Error).message}`);
      this.reset();
      return true;
    }
  }

  private dispatch(frame: Buffer): boolean {
    let message: StunMessage;
    try {
      message = StunMessage.decode(frame);
    } catch (err) {
      // malformed but carrying a valid FINGERPRINT: application data after hand-off, junk before
      if (log.enabled) log('link %s: undecodable STUN frame: %s', this.describe(), (err as Error).message);
      return false;
    }
    if (message.isSuccess() || message.isError()) {
      if (this.transactions.resolve(message.transactionId, message)) return true;
      // After hand-off an answer signed by the peer is still ICE's (a check or consent check whose transaction
      // already ended); only unsigned STUN can be the application's own.
      if (this.handedOff && !this.owner.isOwnMessage(message)) return false;
      this.owner.onInputDropped(this, 'response to no transaction of ours');
      return true;
    }
    // the stream-resume protocol's messages belong to the connection's stream, never to ICE: held with the data
    // before hand-off (a RESUME may beat our own nomination), passed on after it
    if (message.isIndication() && message.get(StunAttr.IceTcpResume) !== undefined) return false;
    if (this.handedOff && !this.owner.isOwnMessage(message)) return false;
    if (message.isRequest()) this.owner.onRequest(this, message);
    // an indication (a keepalive, RFC 8445 §11) needs no answer
    return true;
  }

  /**
   * RST shortly after the answer just written, for a connection no port counts (the ports time their own
   * rejected connections). No FIN first: with end() before the RST, the hostile fuzz run left about 35
   * descriptors open with no connection behind them; cause not pinned down.
   */
  resetAfterAnswer(): void {
    const timer = setTimeout(() => this.reset(), REJECTED_GRACE_MS);
    timer.unref();
    this.connection.once('close', () => clearTimeout(timer));
  }

  /**
   * A stranger failed authentication and was answered: what else it sent or sends is dropped unread (no cut,
   * no decode, no HMAC, no more answers: a flood pays once per connection, not once per frame).
   */
  reject(): void {
    this.rejectedFlag = true;
    this.connection.discardInput();
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
    // a socket the peer reset is no longer writable: sendFrame() would throw, and an error costs a stack trace
    if (this.closedFlag || !this.connection.writable) return false;
    try {
      this.connection.sendFrame(bytes);
      return true;
    } catch (err) {
      // the socket went away between the check above and the write: the 'close' event follows
      if (log.enabled) log('link %s: write failed: %s', this.describe(), (err as Error).message);
      return false;
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.rejected) {
      this.owner.onInputDropped(this, 'after failed authentication');
      return;
    }
    // after hand-off the application's connection asks handleControlFrame() itself, once per frame
    if (this.handedOff || this.handleControlFrame(frame)) return;
    if (this.owner.onDataBeforeSelection(this) === 'reject') {
      if (log.enabled) log('link %s: data before its pair succeeded, reset', this.describe());
      this.owner.onInputDropped(this, 'data before any check succeeded');
      this.reset();
      return;
    }
    this.held.push(frame);
    if (this.held.length >= MAX_HELD_FRAMES) this.connection.pause();
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    // an error only when someone waits for it: a flood of strangers' connections closes with none pending
    if (this.transactions.size > 0) this.transactions.failAll(new ClosedError('connection closed'));
    this.owner.onLinkClosed(this);
  }
}
