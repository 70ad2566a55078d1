import net from 'node:net';
import createDebug from 'debug';
import { AbortedError, type IceTcpError, SocketError, syscallCodeOf, wrapError } from '../errors.js';
import { FramedConnection } from './framed-connection.js';
import type { ResynBudget } from './resyn-budget.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:so');

/**
 * Errors after which the next SYN from the same port may succeed: the peer refused because it had not
 * dialled yet (or its NAT reset us), or our own port/4-tuple was briefly busy.
 */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ETIMEDOUT']);

/** Refusals by the peer (or its NAT) that an immediate new SYN may get past; local errors wait. */
const FAST_RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * Fast retries per dial towards a NATed peer: ~2 s of re-SYNs at ~0 RTT (the lab's RST cell used up to ~1,800),
 * one per RTT elsewhere. The agent's {@link ResynBudget} bounds them further, per target and in total.
 */
export const DEFAULT_FAST_RETRIES = 2000;

/** Brackets every outgoing bind of the port (see PortListenerGate). */
export interface BindGate {
  beforeBind(): Promise<void>;
  afterBind(): void;
}

/** What a simultaneous-open dial needs from its port. */
export interface SoDialContext {
  address: string;
  port: number;
  gate: BindGate;
  maxFrameSize: number | undefined;
  /** Every re-SYN after a refusal takes a token from it (shared by the agent's S-O ports). */
  budget: ResynBudget;
}

/** Options of one simultaneous-open dial. */
export interface SoDialOptions {
  remoteAddress: string;
  remotePort: number;
  timeoutMs: number;
  /** Pause after ECONNREFUSED before the next SYN from the same port, once fast retries are used up. Default 20. */
  retryDelayMs?: number;
  /**
   * Refusals answered with a new SYN at once (no timer) before `retryDelayMs` applies. Between two NATs that
   * answer unsolicited SYNs with RST, the SYNs must cross on the wire within one RTT (docs/ARCHITECTURE.md,
   * RST ping-pong): the faster both sides re-SYN, the sooner that happens (measured: median ~10 ms instead of
   * seconds). Between plain hosts it does harm: two peers re-SYNing at once can stay in lockstep, each SYN
   * refused by the other's kernel (up to 1.3 s on a veth pair), while the listener of a `retryDelayMs` pause
   * takes the peer's SYN at once. So the default is 0; the agent asks for {@link DEFAULT_FAST_RETRIES}
   * towards reflexive (NATed) candidates only.
   */
  fastRetries?: number;
  /**
   * While unanswered, replace the socket by a fresh one from the same port this often; 0 (the default) never
   * does, and the kernel retransmits the SYN (1 s). A fresh socket has a new ISN, and a Linux NAT that has
   * already seen the peer's SYN or our SYN-ACK for the old one (conntrack SYN_SENT2/SYN_RECV) takes every later
   * SYN of that 5-tuple with another ISN as INVALID: ours leave untranslated, the peer's are dropped, for
   * the entry's 120 s lifetime. Our code cannot tell SYN_SENT from SYN_RECV, and in SYN_RECV a destroy even
   * sends a FIN; with 10% loss in the NAT lab this locked out 3-4 of 10 runs (none without re-SYN).
   */
  resynIntervalMs?: number;
  signal?: AbortSignal;
}

type Stop =
  | { kind: 'inbound'; socket: net.Socket }
  | { kind: 'timeout' }
  | { kind: 'fail'; error: IceTcpError };
type AttemptOutcome = { kind: 'connected' } | { kind: 'error'; error: Error } | { kind: 'resyn' } | Stop;

/** One dial from a simultaneous-open port to one remote: re-SYNs, retries after refusals, or takes an inbound. */
export class SoDial {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly context: SoDialContext;
  private readonly options: SoDialOptions;
  private readonly stopped: Promise<Stop>;
  private resolveStop: (stop: Stop) => void = () => {};
  private stop: Stop | undefined;
  private finished = false;
  private inboundTaken = false;

  constructor(context: SoDialContext, options: SoDialOptions) {
    this.context = context;
    this.options = options;
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.stopped = new Promise((resolve) => {
      this.resolveStop = resolve;
    });
  }

  /** Whether an inbound connection from `address:port` answers this dial. */
  matches(address: string | undefined, port: number | undefined): boolean {
    return (
      !this.finished &&
      this.stop === undefined &&
      port === this.remotePort &&
      address !== undefined &&
      sameAddress(address, this.remoteAddress)
    );
  }

  /** Ends the dial with an inbound connection from the remote (the peer's SYN found our listener first). */
  takeInbound(socket: net.Socket): void {
    // until the loop wraps it, a RST on it would be an unhandled 'error'; a FramedConnection copes with a
    // socket that died in between
    socket.on('error', ignoreUntilWrapped);
    this.settle({ kind: 'inbound', socket });
  }

  /** Ends the dial with `error` (port closed). */
  cancel(error: IceTcpError): void {
    this.settle({ kind: 'fail', error });
  }

  /** Dials until connected, answered by an inbound connection, timed out, aborted or cancelled. */
  async run(): Promise<FramedConnection> {
    const { signal, timeoutMs } = this.options;
    const onAbort = () =>
      this.settle({
        kind: 'fail',
        error: new AbortedError(`${this.label()} aborted`, { cause: signal?.reason }),
      });
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(() => this.settle({ kind: 'timeout' }), timeoutMs);
    try {
      return await this.loop();
    } finally {
      this.finished = true;
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      // An inbound that arrived while our own connect won the race: first connection wins, the loser is reset.
      const stop = this.stop;
      if (stop?.kind === 'inbound' && !this.inboundTaken) discardSocket(stop.socket);
    }
  }

  private async loop(): Promise<FramedConnection> {
    const { address, port, gate } = this.context;
    const retryDelayMs = this.options.retryDelayMs ?? 20;
    const fastRetries = this.options.fastRetries ?? 0;
    let refusals = 0;
    const resynIntervalMs = this.options.resynIntervalMs ?? 0;
    const started = performance.now();
    // The code to report if time runs out now: none while a SYN is unanswered, else the last refusal's.
    let pendingCode = 'ETIMEDOUT';
    for (let attempt = 1; ; attempt++) {
      await gate.beforeBind();
      if (this.stop !== undefined) {
        gate.afterBind();
        return this.onStop(this.stop, pendingCode);
      }
      const socket = net.connect({
        host: this.remoteAddress,
        port: this.remotePort,
        localAddress: address,
        localPort: port,
        autoSelectFamily: false,
        noDelay: true,
      });
      let bound = false;
      const markBound = () => {
        if (bound) return;
        bound = true;
        gate.afterBind();
      };
      socket.once('connectionAttempt', markBound);
      socket.once('close', markBound);
      const outcome = await this.settleAttempt(socket, resynIntervalMs);
      markBound();
      if (outcome.kind === 'connected') {
        log(
          '%s: connected after %d attempts, %d ms',
          this.label(),
          attempt,
          Math.round(performance.now() - started),
        );
        return new FramedConnection(socket, { maxFrameSize: this.context.maxFrameSize });
      }
      discardSocket(socket);
      if (outcome.kind === 'resyn') {
        pendingCode = 'ETIMEDOUT';
        continue;
      }
      if (outcome.kind !== 'error') return this.onStop(outcome, pendingCode);
      const code = syscallCodeOf(outcome.error);
      log('%s: attempt %d: %s', this.label(), attempt, code);
      if (code === undefined || !RETRYABLE.has(code)) throw wrapError(outcome.error, this.label());
      pendingCode = code;
      const fast =
        FAST_RETRYABLE.has(code) &&
        refusals < fastRetries &&
        this.context.budget.takeFast(`${this.remoteAddress}:${this.remotePort}`);
      if (fast) refusals++;
      const pause = fast ? nextTurn() : this.pacedPause(retryDelayMs);
      const stop = await Promise.race([this.stopped, pause]);
      // pendingCode stays the refusal's until a SYN goes unanswered: with immediate retries a SYN is nearly
      // always in flight when time runs out, and "refused" is what the peer last said
      if (stop !== undefined) return this.onStop(stop, pendingCode);
    }
  }

  /** `retryDelayMs`, then as long as the shared budget has no token; ends early when the dial stops. */
  private async pacedPause(retryDelayMs: number): Promise<undefined> {
    let wait = retryDelayMs;
    while (wait > 0 && this.stop === undefined) {
      await delay(wait);
      wait = this.stop === undefined ? this.context.budget.take() : 0;
    }
    return undefined;
  }

  private settleAttempt(socket: net.Socket, resynIntervalMs: number): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const finish = (outcome: AttemptOutcome) => {
        clearTimeout(resyn);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        resolve(outcome);
      };
      const onConnect = () => finish({ kind: 'connected' });
      const onError = (error: Error) => finish({ kind: 'error', error });
      // In SYN_SENT a destroy sends nothing and leaves no TIME_WAIT, and a new socket's SYN goes out at once.
      const resyn =
        resynIntervalMs > 0 ? setTimeout(() => finish({ kind: 'resyn' }), resynIntervalMs) : undefined;
      socket.once('connect', onConnect);
      socket.once('error', onError);
      void this.stopped.then(finish);
    });
  }

  private onStop(stop: Stop, codeIfTimeout: string): FramedConnection {
    if (stop.kind === 'inbound') {
      log('%s: answered by an inbound connection', this.label());
      this.inboundTaken = true;
      return new FramedConnection(stop.socket, { maxFrameSize: this.context.maxFrameSize });
    }
    if (stop.kind === 'fail') throw stop.error;
    throw new SocketError(`${this.label()} timed out after ${this.options.timeoutMs} ms`, codeIfTimeout);
  }

  private settle(stop: Stop): void {
    if (this.stop !== undefined || this.finished) {
      if (stop.kind === 'inbound') discardSocket(stop.socket);
      return;
    }
    this.stop = stop;
    this.resolveStop(stop);
  }

  private label(): string {
    return `S-O dial ${this.context.address}:${this.context.port} -> ${this.remoteAddress}:${this.remotePort}`;
  }
}

/** After the I/O callbacks pending now, not after a timer tick (setTimeout(0) costs ~1 ms). */
function nextTurn(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(() => resolve(undefined)));
}

function ignoreUntilWrapped(): void {}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

/** Compares addresses as the kernel reports them, where IPv4 may come back mapped into IPv6. */
function sameAddress(a: string, b: string): boolean {
  const unmap = (value: string) =>
    value.toLowerCase().startsWith('::ffff:') && value.includes('.') ? value.slice(7) : value;
  return unmap(a).toLowerCase() === unmap(b).toLowerCase();
}
