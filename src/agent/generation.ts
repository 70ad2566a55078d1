import createDebug from 'debug';
import type { Checklist } from '../checklist/index.js';
import type { GatherResource } from '../gather/index.js';
import type { ConnectionPool } from './connection-pool.js';
import type { IceParameters } from './credentials.js';
import type { Link } from './link.js';

const log = createDebug('ice-tcp:agent:restart');

/**
 * How long an old path stays open after the switch when the peer sends no packet on the new one: long enough
 * for the peer's own switch (it may come a round trip later, and until then it still sends on the old path).
 */
export const RETIRED_PATH_LINGER_MS = 5000;

/**
 * Why a generation's signal aborts: its gathering and dials end with an `AbortedError` caused by this. A reason
 * given is no `DOMException` built (and its stack captured) at each restart, on the way to the new credentials.
 */
export const ABANDONED = 'ICE generation abandoned (restart or stop)';

/**
 * One ICE generation (RFC 8445 §9): the credentials, the peer's, the connection pool that speaks them and what
 * gathering opened for it. An ICE restart starts a new one; the old one keeps only its selected connection,
 * which carries data until the new generation nominates a pair.
 */
export class Generation {
  /** Aborted when the generation is abandoned or retired: its gathering and dials stop. */
  readonly abort = new AbortController();
  /** STUN/TURN server connections and allocations gathering opened. */
  readonly resources: GatherResource[] = [];
  /** The peer's credentials for this generation, once signalled. */
  remote: IceParameters | undefined;
  /** Its connections; set by the agent right after construction (the pool's callbacks name this generation). */
  pool!: ConnectionPool;

  constructor(
    /** 1 for the first generation, then one more per restart. */
    readonly id: number,
    readonly params: IceParameters,
    /** Started by our own restart(): it takes the peer's next parameters as the answer, not as a new restart. */
    readonly initiatedHere: boolean,
  ) {}

  /** Stops gathering and dials, closes every connection and releases every server resource. */
  discard(): void {
    this.abort.abort(ABANDONED);
    this.pool.closeAll();
    for (const r of this.resources.splice(0)) r.reset();
  }
}

/**
 * The generation whose selected connection still carries data while a restart runs. Its pool keeps answering
 * the peer's consent checks on that connection with the old credentials (RFC 8445 §9: the old pair is used
 * until the new one is nominated); after the switch it lingers until the peer has switched too.
 */
export class RetiredGeneration {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    readonly generation: Generation,
    /** The old checklist: it answers the peer's checks on the old connection. */
    readonly checklist: Checklist | undefined,
    /** The old selected connection. */
    readonly link: Link | undefined,
  ) {
    generation.abort.abort(ABANDONED);
  }

  /**
   * After the switch: the old path is released once the peer ends it (it switched and closed it), when the
   * connection says it is done with it, or after {@link RETIRED_PATH_LINGER_MS} at the latest.
   */
  linger(): void {
    if (this.released) return;
    if (this.link?.connection.peerEnded) {
      this.release(true);
      return;
    }
    this.timer = setTimeout(() => this.release(true), RETIRED_PATH_LINGER_MS);
    this.timer.unref();
    this.link?.connection.once('end', () => this.release(true));
  }

  /** Closes the old path (gracefully: what was sent on it still arrives) and everything of its generation. */
  release(graceful: boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearTimeout(this.timer);
    log('generation %d released', this.generation.id);
    const link = this.link;
    if (graceful && link && !link.closed) {
      link.connection.once('close', () => this.generation.discard());
      link.connection.close();
    } else {
      this.generation.discard();
    }
  }
}
