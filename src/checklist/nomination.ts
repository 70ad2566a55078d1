import { type CandidatePair, isPassiveLocal, remoteHasConnected } from './pair.js';

/**
 * Could this pair still become valid, as far as waiting for it is worth it? A pair on our passive candidate
 * only succeeds if the peer connects to it, so it counts only once the peer has (RFC 6544 §7.1).
 */
export function mayStillBecomeValid(pair: CandidatePair): boolean {
  if (pair.state === 'succeeded' || pair.state === 'failed') return false;
  return !isPassiveLocal(pair) || remoteHasConnected(pair);
}

/** When the controlling agent stops waiting for better pairs. */
export interface NominationTiming {
  now: number;
  /** When the first check went out; undefined before any. */
  firstCheckAt: number | undefined;
  nominationWaitMs: number;
  /** Wait used instead when the best valid pair is relayed; default `nominationWaitMs`. */
  relayNominationWaitMs?: number;
  /** Pairs that evidence shows cannot succeed (checklist/nat-evidence.ts): they hold no nomination. */
  cannotSucceed?: (pair: CandidatePair) => boolean;
}

/** A pair through a TURN relay on either side, as far as the candidates tell. */
export function isRelayedPair(pair: CandidatePair): boolean {
  return pair.local.type === 'relay' || pair.remote.type === 'relay';
}

/**
 * How long after the first check the controlling agent may wait for a better pair than `best`: a relayed
 * best pair has its own budget, so the fallback to a relay can be quick without hurrying direct nominations.
 */
export function nominationWaitFor(
  best: CandidatePair,
  timing: Pick<NominationTiming, 'nominationWaitMs' | 'relayNominationWaitMs'>,
): number {
  return isRelayedPair(best)
    ? (timing.relayNominationWaitMs ?? timing.nominationWaitMs)
    : timing.nominationWaitMs;
}

/**
 * RFC 8445 §8.1.1 regular nomination: the controlling agent picks the highest-priority valid pair once no
 * better pair can still succeed, or once it has waited long enough for one (`pairs` sorted by priority).
 */
export function choosePairToNominate(
  pairs: readonly CandidatePair[],
  timing: NominationTiming,
): CandidatePair | undefined {
  const best = pairs.find((p) => p.state === 'succeeded');
  if (!best) return undefined;
  const betterMayCome = pairs.some(
    (p) => p.priority > best.priority && mayStillBecomeValid(p) && !timing.cannotSucceed?.(p),
  );
  if (!betterMayCome) return best;
  const waitedEnough =
    timing.firstCheckAt !== undefined && timing.now >= timing.firstCheckAt + nominationWaitFor(best, timing);
  return waitedEnough ? best : undefined;
}
