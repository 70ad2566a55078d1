import type { FramedConnection } from './framed-connection.js';

/** Default cap on inbound connections handed out but not yet released (unauthenticated peers cost memory). */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 32;

/** Counts inbound connections handed to the agent until it releases them or they close. */
export class OutstandingConnections {
  readonly #connections = new Set<FramedConnection>();
  readonly #limit: number;

  constructor(limit: number = DEFAULT_MAX_PENDING_CONNECTIONS) {
    this.#limit = limit;
  }

  /** Whether another connection may be handed out now. */
  get hasRoom(): boolean {
    return this.#connections.size < this.#limit;
  }

  /** How many connections are handed out and not yet released. */
  get size(): number {
    return this.#connections.size;
  }

  /** Counts `connection` until release() or its 'close'. */
  track(connection: FramedConnection): void {
    this.#connections.add(connection);
    connection.once('close', () => this.#connections.delete(connection));
  }

  /** Stops counting `connection` (the agent authenticated it and owns it now). */
  release(connection: FramedConnection): void {
    this.#connections.delete(connection);
  }
}
