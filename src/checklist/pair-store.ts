import type { IceRole } from '../candidate/types.js';
import { byPriorityDescending, type CandidatePair, computePairPriority } from './pair.js';
import { redundancyKey } from './pairing.js';

/** The checklist's pairs, indexed by id and by the connection they would open, kept sorted by priority. */
export class PairStore {
  private readonly byId = new Map<string, CandidatePair>();
  private readonly byConnection = new Map<string, CandidatePair>();
  private sortedCache: CandidatePair[] | undefined;

  /** Number of pairs. */
  get size(): number {
    return this.byId.size;
  }

  /** A pair by id. */
  get(id: string): CandidatePair | undefined {
    return this.byId.get(id);
  }

  /** The pair that would open the same connection (RFC 8445 §6.1.2.4 redundancy). */
  sameConnectionAs(pair: Pick<CandidatePair, 'local' | 'remote'>): CandidatePair | undefined {
    return this.byConnection.get(redundancyKey(pair.local, pair.remote));
  }

  /** Every pair, highest priority first; ties keep insertion order. */
  sorted(): readonly CandidatePair[] {
    this.sortedCache ??= [...this.byId.values()].sort(byPriorityDescending);
    return this.sortedCache;
  }

  /** Adds a pair (the caller has pruned redundant ones). */
  add(pair: CandidatePair): void {
    this.byId.set(pair.id, pair);
    this.byConnection.set(redundancyKey(pair.local, pair.remote), pair);
    this.sortedCache = undefined;
  }

  /** Removes a pair. */
  remove(pair: CandidatePair): void {
    this.byId.delete(pair.id);
    const key = redundancyKey(pair.local, pair.remote);
    if (this.byConnection.get(key) === pair) this.byConnection.delete(key);
    this.sortedCache = undefined;
  }

  /** RFC 8445 §7.2.5.1: after a role change G and D swap, so every priority changes. */
  recomputePriorities(role: IceRole): void {
    for (const p of this.byId.values()) p.priority = computePairPriority(p.local, p.remote, role);
    this.sortedCache = undefined;
  }
}
