import { type CandidatePair, isPassiveLocal } from './pair.js';

/**
 * Frozen/waiting bookkeeping of RFC 8445 §6.1.2.6 and §6.1.4.2, with RFC 8838 §10 for pairs that arrive later.
 * Pairs on a passive local candidate stay outside it: they wait for the peer to connect, and letting them
 * hold a foundation's one waiting slot would freeze pairs that can be checked.
 */
function takesPartInFreezing(pair: CandidatePair): boolean {
  return !isPassiveLocal(pair);
}

function sameFoundation(pairs: readonly CandidatePair[], pair: CandidatePair): CandidatePair[] {
  return pairs.filter((p) => p !== pair && p.foundation === pair.foundation && takesPartInFreezing(p));
}

/**
 * Sets a new pair's first state: the best pair of each foundation waits, the others stay frozen until a pair
 * of their foundation succeeds. A newcomer that beats its foundation's waiting pair takes its place.
 */
export function placeNewPair(pair: CandidatePair, pairs: readonly CandidatePair[]): void {
  if (!takesPartInFreezing(pair)) {
    pair.state = 'waiting';
    return;
  }
  const siblings = sameFoundation(pairs, pair);
  if (siblings.some((p) => p.state === 'succeeded')) {
    pair.state = 'waiting';
    return;
  }
  const waiting = siblings.filter((p) => p.state === 'waiting');
  if (siblings.some((p) => p.state === 'in-progress') || waiting.some((p) => p.priority >= pair.priority)) {
    pair.state = 'frozen';
    return;
  }
  for (const p of waiting) p.state = 'frozen';
  pair.state = 'waiting';
}

/** RFC 8445 §7.2.5.3.3: a success thaws every frozen pair of the same foundation. */
export function unfreezeFoundation(foundation: string, pairs: readonly CandidatePair[]): void {
  for (const p of pairs) {
    if (p.state === 'frozen' && p.foundation === foundation) p.state = 'waiting';
  }
}

/**
 * Thaws the best frozen pair of the foundation, if any: a kept S-O SYN (peer-wait.ts) no longer holds its
 * foundation once a check's usual time is over, so the next 5-tuple (a spare S-O port) gets its turn.
 */
export function thawNextOfFoundation(foundation: string, pairs: readonly CandidatePair[]): void {
  const next = pairs.find(
    (p) => p.state === 'frozen' && p.foundation === foundation && takesPartInFreezing(p),
  );
  if (next) next.state = 'waiting';
}

/** The highest-priority pair an ordinary check may go to: waiting, and openable from our side. */
export function nextOrdinaryPair(pairs: readonly CandidatePair[]): CandidatePair | undefined {
  return pairs.find((p) => p.state === 'waiting' && takesPartInFreezing(p));
}

/**
 * RFC 8445 §6.1.4.2: with nothing waiting, the best frozen pair whose foundation has no check waiting or
 * under way may be thawed (`pairs` sorted by priority).
 */
export function pairToUnfreeze(pairs: readonly CandidatePair[]): CandidatePair | undefined {
  if (nextOrdinaryPair(pairs)) return undefined;
  return pairs.find(
    (p) =>
      p.state === 'frozen' &&
      takesPartInFreezing(p) &&
      !sameFoundation(pairs, p).some((q) => q.state === 'in-progress' || q.state === 'waiting'),
  );
}
