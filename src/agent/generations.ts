import type { Checklist } from '../checklist/index.js';
import { generateParameters, type IceParameters } from './credentials.js';
import { type Generation, RetiredGeneration } from './generation.js';
import type { Link } from './link.js';

/** Builds a generation with its pool (the agent's: the pool's reports go to it). */
export type GenerationFactory = (id: number, params: IceParameters, initiatedHere: boolean) => Generation;

/**
 * The agent's generations (RFC 8445 §9): the one in force, the retired one whose connection still carries data,
 * and the peer's credentials of the one before, so that the same credentials sent again are no restart.
 */
export class Generations {
  current: Generation;
  retired: RetiredGeneration | undefined;
  private previousRemote: IceParameters | undefined;
  /** Teardown put off until after the restart's own turn ({@link advance}). */
  private readonly deferred: Array<() => void> = [];
  private deferredRun: NodeJS.Immediate | undefined;

  constructor(
    private readonly make: GenerationFactory,
    first: IceParameters,
  ) {
    this.current = make(1, first, false);
  }

  /** The peer's credentials in force, or of the previous generation when none are in force yet. */
  get lastRemote(): IceParameters | undefined {
    return this.current.remote ?? this.previousRemote;
  }

  /**
   * Starts the next generation with fresh credentials. The old one is retired with its checklist and selected
   * link when `keep` is given (its pair carries the application's data), and discarded otherwise. What only
   * closes (the previously retired generation, a discarded one's sockets and server resources) runs after the
   * caller's turn: the restart signals its new credentials and starts gathering first (README, "ICE restart").
   */
  advance(
    initiatedHere: boolean,
    keep: { checklist: Checklist | undefined; link: Link | undefined } | undefined,
  ): Generation {
    const old = this.current;
    this.previousRemote = old.remote ?? this.previousRemote;
    this.current = this.make(old.id + 1, generateParameters(), initiatedHere);
    if (keep) {
      const previous = this.retired;
      this.retired = new RetiredGeneration(old, keep.checklist, keep.link);
      if (previous) this.later(() => previous.release(false));
    } else {
      // at once: a gathering or dial of the old generation that ends later must find it abandoned
      old.abort.abort();
      this.later(() => old.discard());
    }
    return this.current;
  }

  /** The agent stops: what was put off runs now, and the retired generation is released. */
  releaseAll(): void {
    this.runDeferred();
    this.retired?.release(false);
  }

  private later(teardown: () => void): void {
    this.deferred.push(teardown);
    this.deferredRun ??= setImmediate(() => this.runDeferred());
  }

  private runDeferred(): void {
    if (this.deferredRun) clearImmediate(this.deferredRun);
    this.deferredRun = undefined;
    for (const teardown of this.deferred.splice(0)) teardown();
  }

  /** The retired checklist that answers the peer's checks on `gen`'s kept connection, if `gen` is retired. */
  retiredChecklistOf(gen: Generation): Checklist | undefined {
    return this.retired?.generation === gen ? this.retired.checklist : undefined;
  }
}
