import { abortReason, ClosedError, type IceTcpError, StunTransactionError } from '../errors.js';

/** How one transaction ends when no answer comes. */
export interface TransactionOptions {
  /** Give up after this long (ms); undefined: only the signal, {@link StunTransactions.failAll} or an answer end it. */
  timeoutMs?: number;
  /**
   * Times after the first send (ms) at which the same bytes go out again while unanswered. Over TCP the
   * transport retransmits (RFC 8489 §6.2.2), so only a hop that may lose whole messages (a TURN relay before
   * ConnectionBind) needs a schedule; times at or past `timeoutMs` are ignored.
   */
  retransmitMs?: readonly number[];
  /** Cancels the transaction: it fails with the signal's reason (see {@link abortReason}). */
  signal?: AbortSignal;
  /** The error a timeout stands for; default a {@link StunTransactionError} naming the wait. */
  timeoutError?: () => IceTcpError;
}

/** Called exactly once per transaction: with the answer, or with why there is none. */
export type TransactionCallback<R> = (result: { response: R } | { error: IceTcpError }) => void;

interface Entry<R> {
  callback: TransactionCallback<R>;
  timers: NodeJS.Timeout[];
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The STUN client transaction table shared by every STUN speaker of the library (agent links, the STUN
 * server connection, the TURN control channel): sends, retransmits on a schedule, times out, matches answers
 * by transaction id and cancels on an AbortSignal. It owns no socket: the caller passes `send`, which returns
 * false when the bytes could not be written (the transaction then fails with a {@link ClosedError}).
 */
export class StunTransactions<R> {
  /** Made on the first transaction and dropped when none waits: a held connection is idle between its consent
   * checks, and an empty Map is ~0.2 KB of each of 10,000 sessions. */
  private pending: Map<string, Entry<R>> | undefined;

  constructor(private readonly send: (bytes: Buffer) => boolean) {}

  /** Transactions still waiting for an answer. */
  get size(): number {
    return this.pending?.size ?? 0;
  }

  /** Starts a transaction; `callback` runs once, synchronously when the send fails at once. */
  start(
    bytes: Buffer,
    transactionId: Buffer,
    options: TransactionOptions,
    callback: TransactionCallback<R>,
  ): void {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) {
      callback({ error: abortReason(signal) });
      return;
    }
    const key = transactionId.toString('hex');
    // a reused id would make the older transaction unanswerable: it ends now rather than never (the error is
    // built only then: capturing a stack on every start was 7 % of a 10,000-session server's CPU)
    if (this.pending?.has(key))
      this.settle(key, { error: new StunTransactionError('transaction id reused') });
    const entry: Entry<R> = {
      callback,
      timers: [],
      signal,
      onAbort: () => this.settle(key, { error: abortReason(signal as AbortSignal) }),
    };
    this.pending ??= new Map();
    this.pending.set(key, entry);
    for (const ms of options.retransmitMs ?? []) {
      if (timeoutMs !== undefined && ms >= timeoutMs) continue;
      entry.timers.push(setTimeout(() => this.send(bytes), ms));
    }
    if (timeoutMs !== undefined) {
      const timeoutError =
        options.timeoutError ?? (() => new StunTransactionError(`no answer in ${timeoutMs} ms`));
      entry.timers.push(setTimeout(() => this.settle(key, { error: timeoutError() }), timeoutMs));
    }
    signal?.addEventListener('abort', entry.onAbort, { once: true });
    if (!this.send(bytes)) this.settle(key, { error: new ClosedError('connection closed') });
  }

  /** {@link start} as a promise: resolves with the answer, rejects with the {@link IceTcpError}. */
  request(bytes: Buffer, transactionId: Buffer, options: TransactionOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.start(bytes, transactionId, options, (result) => {
        if ('response' in result) resolve(result.response);
        else reject(result.error);
      });
    });
  }

  /** Hands an answer to its transaction; false when none waits for that id (stray or late). */
  resolve(transactionId: Buffer, response: R): boolean {
    return this.settle(transactionId.toString('hex'), { response });
  }

  /**
   * Ends the transaction `transactionId` with `error`, if it still waits (a lighter cancel than an AbortSignal,
   * for callers that start many: an AbortController costs more than the rest of a consent check's bookkeeping).
   */
  cancel(transactionId: Buffer, error: IceTcpError): boolean {
    return this.settle(transactionId.toString('hex'), { error });
  }

  /** Ends every pending transaction with `error` (the connection is gone). */
  failAll(error: IceTcpError): void {
    for (const key of [...(this.pending?.keys() ?? [])]) this.settle(key, { error });
  }

  private settle(key: string, result: { response: R } | { error: IceTcpError }): boolean {
    const entry = this.pending?.get(key);
    if (!entry) return false;
    this.pending?.delete(key);
    if (this.pending?.size === 0) this.pending = undefined;
    for (const t of entry.timers) clearTimeout(t);
    entry.signal?.removeEventListener('abort', entry.onAbort);
    entry.callback(result);
    return true;
  }
}
