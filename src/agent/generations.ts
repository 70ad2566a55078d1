import type { Checklist } from '../checklist/index.js';
import { generateParameters, type IceParameters } from './credentials.js';
import { ABANDONED, type Generation, RetiredGeneration } from './generation.js';
import type { Link } from './link.js';

/**
 * Longest a restart puts off the teardown of older generations when it does not settle sooner (ms): the teardown
 * runs once the restart's pair is nominated, and at the latest this long after the restart began.
 */
export const DEFERRED_TEARDOWN_MS = 1000;

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
  /** Teardown put off until the restart settles ({@link advance}, {@link switched}). */
  private readonly deferred: Array<() => void> = [];
  private deferredRun: NodeJS.Timeout | undefined;

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
   * closes (the previously retired generation, a discarded one's sockets and server resources) waits until the
   * restart's pair is nominated ({@link switched}), or {@link DEFERRED_TEARDOWN_MS} at most: one turn later would
   * still come before the peer's answer when both ends share a process, and every step from the new credentials to
   * the nominating check is on the restart's critical path (README, "ICE restart").
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
      old.abort.abort(ABANDONED);
      this.later(() => old.discard());
    }
    return this.current;
  }

  /**
   * The restart's pair is nominated and the connection moved: the old path lingers, and older teardown runs on the
   * next timer tick, after this turn (the peer reads our answer to its nominating check next).
   */
  switched(): void {
    this.retired?.linger();
    if (this.deferredRun === undefined) return;
    clearTimeout(this.deferredRun);
    this.deferredRun = setTimeout(() => this.runDeferred(), 0).unref();
  }

  /** The agent stops: what was put off runs now, and the retired generation is released. */
  releaseAll(): void {
    this.runDeferred();
    this.retired?.release(false);
  }

  private later(teardown: () => void): void {
    this.deferred.push(teardown);
    // unref: what it closes keeps the process alive by itself, and close() runs it at once
    this.deferredRun ??= setTimeout(() => this.runDeferred(), DEFERRED_TEARDOWN_MS).unref();
  }

  private runDeferred(): void {
    if (this.deferredRun) clearTimeout(this.deferredRun);
    this.deferredRun = undefined;
    for (const teardown of this.deferred.splice(0)) teardown();
  }

  /** The retired checklist that answers the peer's checks on `gen`'s kept connection, if `gen` is retired. */
  retiredChecklistOf(gen: Generation): Checklist | undefined {
    return this.retired?.generation === gen ? this.retired.checklist : undefined;
  }
}
