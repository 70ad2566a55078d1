import net from 'node:net';
import createDebug from 'debug';
import { type IceTcpError, InvalidArgumentError, wrapError } from '../errors.js';
import { isStunFrame } from '../framing/index.js';
import { StunMessage, StunMethod } from '../stun/index.js';
import { listenOnChoice } from '../transport/listen-port.js';
import { loopClock } from '../transport/loop-clock.js';
import { discardSocket } from '../transport/socket-errors.js';
import { ConnectionTable, type EvictionReason } from './connection-table.js';

const log = createDebug('ice-tcp:server:mux');

/** Default cap on connections held before their first request, over all sources. */
export const DEFAULT_MUX_MAX_PENDING = 4096;
/** Default cap on such connections from one source (an IPv4 address or an IPv6 /64). */
export const DEFAULT_MUX_MAX_PENDING_PER_SOURCE = 256;
/** Default time a connection has to send its first complete request (ms). */
export const DEFAULT_MUX_FIRST_REQUEST_TIMEOUT_MS = 2500;

/**
 * The largest first frame read. An ICE check is ~100 bytes plus USERNAME (at most 513: two 256-char ufrags
 * and the colon); anything announcing more is not an ICE check, and holding it would let a stranger make us
 * buffer 64 KiB per connection.
 */
export const MAX_FIRST_FRAME = 2048;

/**
 * Sessions handed to agents per event-loop turn; the rest wait their turn in arrival order. Starting a session
 * (the agent's checks, answers, triggered check) costs the loop a few ms: a burst of thousands started in one turn
 * stalled it for seconds, and every session already in flight waited on that stall, its peer's check timer running.
 */
export const MUX_ROUTES_PER_TURN = 128;

/** Accept queue asked of the kernel (it caps it at net.core.somaxconn, 4096 on current kernels). */
const MUX_BACKLOG = 4096;

/** Limits on the connections a mux port holds before their first request. */
export interface MuxLimits {
  /** Connections held before their first request, over all sources; a newcomer evicts (see ConnectionTable). */
  maxPending?: number;
  /** The same per source (IPv4 address, IPv6 /64); a newcomer evicts that source's oldest. */
  maxPendingPerSource?: number;
  /** A connection that has not sent a complete first request this long after its accept is reset (ms). */
  firstRequestTimeoutMs?: number;
}

/** What the mux port counted since it started (for tests, benches and logs). */
export interface MuxCounters {
  /** Connections accepted. */
  accepted: number;
  /** Connections handed to an agent (or to a worker). */
  routed: number;
  /** Closed: the first frame named no registered ufrag. */
  unknownUfrag: number;
  /** Closed: the first frame was not a framed STUN Binding request with a valid FINGERPRINT and USERNAME. */
  badRequest: number;
  /** Closed by a cap or the first-request deadline. */
  evicted: number;
}

/** Where a routed connection goes: false when nobody owns `ufrag` (the connection is then reset). */
export type MuxRoute = (ufrag: string, socket: net.Socket, head: Buffer) => boolean;

/** Fills in the defaults of {@link MuxLimits}; InvalidArgumentError naming the bad one. */
export function resolveMuxLimits(limits: MuxLimits): Required<MuxLimits> {
  const r = {
    maxPending: limits.maxPending ?? DEFAULT_MUX_MAX_PENDING,
    maxPendingPerSource: limits.maxPendingPerSource ?? DEFAULT_MUX_MAX_PENDING_PER_SOURCE,
    firstRequestTimeoutMs: limits.firstRequestTimeoutMs ?? DEFAULT_MUX_FIRST_REQUEST_TIMEOUT_MS,
  };
  for (const [name, value, max] of [
    ['maxPending', r.maxPending, 1_000_000],
    ['maxPendingPerSource', r.maxPendingPerSource, 1_000_000],
    ['firstRequestTimeoutMs', r.firstRequestTimeoutMs, 600_000],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new InvalidArgumentError(`${name} must be an integer in 1..${max}, got ${value}`);
  }
  return r;
}

/**
 * The local ufrag a mux routes by: the part of USERNAME before the colon of a framed STUN Binding request with
 * a valid FINGERPRINT (RFC 8445 §7.2.2: USERNAME is `receiver-ufrag:sender-ufrag`). Undefined for anything else.
 * MESSAGE-INTEGRITY is the agent's to check: the mux knows no passwords.
 */
export function firstRequestUfrag(frame: Buffer): string | undefined {
  if (!isStunFrame(frame)) return undefined;
  try {
    const message = StunMessage.decode(frame);
    if (message.method !== StunMethod.Binding || !message.isRequest()) return undefined;
    const username = message.username();
    const colon = username?.indexOf(':') ?? -1;
    if (username === undefined || colon < 1) return undefined;
    return username.slice(0, colon);
  } catch {
    return undefined; // a stranger's bytes never throw past the mux
  }
}

/**
 * The listening socket of a mux port: holds each inbound connection until its first RFC 4571 frame, then
 * routes it by that frame's USERNAME with every byte read so far. Caps and the first-request deadline are a
 * {@link ConnectionTable}'s (oldest first, never refuse the newest, per-source cap), swept by one timer.
 */
export class MuxAcceptor {
  /** What happened to the connections so far. */
  readonly counters: MuxCounters = { accepted: 0, routed: 0, unknownUfrag: 0, badRequest: 0, evicted: 0 };
  private readonly server = net.createServer({ noDelay: true });
  private readonly table: ConnectionTable;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private bound: { address: string; port: number } | undefined;
  /** First requests read and waiting for their turn to be routed, oldest first. */
  private readonly ready = new Map<net.Socket, Waiting>();
  private draining = false;

  constructor(
    limits: Required<MuxLimits>,
    private readonly route: MuxRoute,
    private readonly onError: (error: IceTcpError) => void,
  ) {
    const deadline = limits.firstRequestTimeoutMs;
    this.table = new ConnectionTable(
      {
        maxConnections: limits.maxPending,
        maxConnectionsPerIp: limits.maxPendingPerSource,
        requestTimeoutMs: deadline,
        idleTimeoutMs: deadline,
      },
      (socket, reason) => this.evict(socket, reason),
    );
    // The deadline runs on loop time (LoopClock: a stall of the loop does not count), and the sweep runs after
    // the poll phase that follows its timer: after a burst of sessions stalled the loop, the first requests that
    // arrived meanwhile are read before anyone is judged silent.
    this.sweeper = setInterval(
      () => setImmediate(() => this.table.sweep(loopClock.now())),
      Math.min(1000, deadline / 4),
    );
    this.sweeper.unref();
    this.server.on('connection', (socket) => this.onConnection(socket));
    this.server.on('error', (error) => this.onError(wrapError(error, 'mux listener')));
  }

  /** Connections held now, waiting for their first request. */
  get pending(): number {
    return this.table.size;
  }

  /** Listens; resolves with the address and port bound. */
  async listen(host: string, port: number): Promise<{ address: string; port: number }> {
    // a server's port takes bursts of thousands of connections: Node's default queue of 511 would overflow
    const bound = await listenOnChoice(this.server, { address: host, port, backlog: MUX_BACKLOG });
    this.bound = { address: host, port: bound };
    log('mux listening on %s:%d', host, bound);
    return this.bound;
  }

  /** The address listened on, once listening. */
  address(): { address: string; port: number } | undefined {
    return this.bound;
  }

  /** Stops listening and resets every held connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.ready.clear();
    for (const socket of this.table.clear()) discardSocket(socket);
    // stops listening at once; its callback would wait for the connections handed to agents, which are theirs
    if (this.server.listening) this.server.close();
  }

  private onConnection(socket: net.Socket): void {
    // from accept on: the owner adds its own after hand-off, and a socket passed to a worker is dead here
    socket.on('error', ignoreError);
    if (this.closed) {
      discardSocket(socket);
      return;
    }
    this.counters.accepted++;
    this.table.admit(socket, socket.remoteAddress ?? '', loopClock.now());
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < 2) return;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      const frameLength = head.readUInt16BE(0);
      if (frameLength > MAX_FIRST_FRAME) {
        this.refuse(socket, 'badRequest');
        return;
      }
      if (length < 2 + frameLength) return;
      socket.off('data', onData);
      const ufrag = firstRequestUfrag(head.subarray(2, 2 + frameLength));
      if (ufrag === undefined) this.refuse(socket, 'badRequest');
      else this.enqueue(socket, { head, ufrag, onClose });
    };
    const onClose = () => {
      this.ready.delete(socket);
      this.table.remove(socket);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  }

  /**
   * A complete first request: routed in its turn ({@link MUX_ROUTES_PER_TURN}). Meanwhile it stays in the table,
   * as having made progress (no first-request deadline; its idle deadline runs from now), still counted by the
   * caps and evictable like any other, so a flood of valid-looking requests cannot pile up here.
   */
  private enqueue(socket: net.Socket, waiting: Waiting): void {
    socket.pause();
    this.table.progressed(socket, loopClock.now());
    this.ready.set(socket, waiting);
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  /** Routes the oldest waiting requests, then yields the loop (a poll phase runs before the next batch). */
  private drain(): void {
    // only a hand-off costs: unknown ufrags are closed without using up the turn
    let routed = 0;
    for (const [socket, { head, ufrag, onClose }] of this.ready) {
      if (routed === MUX_ROUTES_PER_TURN) break;
      this.ready.delete(socket);
      socket.off('close', onClose);
      if (this.routeNow(socket, head, ufrag)) routed++;
    }
    this.draining = this.ready.size > 0 && !this.closed;
    if (this.draining) setImmediate(() => this.drain());
  }

  /** Hands `socket` to the owner of `ufrag`, or closes it; true when handed over. */
  private routeNow(socket: net.Socket, head: Buffer, ufrag: string): boolean {
    this.table.remove(socket);
    // bytes the stream buffered past the one 'data' chunk we were handed belong to the agent too
    const rest: Buffer[] = [head];
    for (let more = socket.read() as Buffer | null; more !== null; more = socket.read() as Buffer | null)
      rest.push(more);
    const all = rest.length === 1 ? head : Buffer.concat(rest);
    let routed = false;
    try {
      routed = this.route(ufrag, socket, all);
    } catch (error) {
      log('routing %s failed: %s', ufrag, (error as Error).message);
    }
    if (routed) this.counters.routed++;
    else this.refuse(socket, 'unknownUfrag');
    return routed;
  }

  private refuse(socket: net.Socket, why: 'badRequest' | 'unknownUfrag'): void {
    this.counters[why]++;
    this.table.remove(socket);
    if (log.enabled) log('%s:%d closed: %s', socket.remoteAddress, socket.remotePort, why);
    discardSocket(socket);
  }

  private evict(socket: net.Socket, reason: EvictionReason): void {
    this.counters.evicted++;
    if (log.enabled) log('%s:%d evicted: %s', socket.remoteAddress, socket.remotePort, reason);
    discardSocket(socket);
  }
}

function ignoreError(): void {}

/** A connection whose first request was read, waiting for its turn to be routed. */
interface Waiting {
  /** Every byte read so far, the first request first. */
  head: Buffer;
  /** The local ufrag its USERNAME names. */
  ufrag: string;
  /** Its 'close' listener while the mux holds it. */
  onClose: () => void;
}
