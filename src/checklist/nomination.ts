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

/** Slack on top of the round trips a better pair is owed (`betterPairDueAt`): timers on a loaded event loop. */
export const STALE_CHECK_FLOOR_MS = 10;
/**
 * Round-trip times a better pair is owed per round trip of its check: RFC 6298 §2.2's first retransmission
 * timeout from one sample R, R + 4·(R/2) = 3R. With 1R, public <-> public at 20 ms RTT on a loaded CI runner
 * nominated the peer's connection to our passive candidate while our own dial to its passive one, the better
 * pair, was answering a few ms late.
 */
export const STALE_CHECK_RTT_FACTOR = 3;

/**
 * Round trips a check takes: a connection opened for it (active or S-O, first check) costs one more than a
 * check over a connection already there (on our passive candidate, or a repeated check).
 */
function checkRoundTrips(pair: CandidatePair): number {
  return isPassiveLocal(pair) || pair.checksSent > 1 ? 1 : 2;
}

/**
 * Until when a better pair than `best` holds its nomination (Infinity: until the overall wait ends). A pair
 * is worth waiting for only while its check is genuinely in flight. Its time is `best`'s measured check time,
 * scaled by the round trips each check takes, `STALE_CHECK_RTT_FACTOR` times, plus `STALE_CHECK_FLOOR_MS`, from
 * when its own check went out:
 * a better pair checked first over a path no longer than `best`'s (a LAN host pair against the hairpin through
 * the NAT, a host pair against a reflexive one) has answered by then if it ever answers soon (its SYN was
 * dropped, or lost: the kernel re-sends it after 1 s, and like libnice and pion we then take the lower pair),
 * while a check that went out late (trickle) still gets its own time. A frozen pair shares the fate of its
 * foundation's check in flight (RFC 8445 §6.1.2.6); a pair the peer's check came through works, and waits. A
 * relayed `best` keeps the relay's wait: a direct path may still be punching (RST ping-pong, spare S-O ports),
 * which the relay's round trip does not bound.
 */
function betterPairDueAt(pair: CandidatePair, best: CandidatePair, pairs: readonly CandidatePair[]): number {
  if (best.rttMs === undefined || isRelayedPair(best) || remoteHasConnected(pair))
    return Number.POSITIVE_INFINITY;
  const perRoundTrip = best.rttMs / checkRoundTrips(best);
  const inFlightSince = (p: CandidatePair) =>
    p.state === 'in-progress' && p.lastCheckAt !== undefined ? p.lastCheckAt : undefined;
  const dueFrom = (p: CandidatePair, since: number) =>
    since + STALE_CHECK_RTT_FACTOR * perRoundTrip * checkRoundTrips(p) + STALE_CHECK_FLOOR_MS;
  const own = inFlightSince(pair);
  if (own !== undefined) return dueFrom(pair, own);
  if (pair.state !== 'frozen') return Number.POSITIVE_INFINITY;
  let due: number | undefined;
  for (const p of pairs) {
    const since = p.foundation === pair.foundation ? inFlightSince(p) : undefined;
    if (since !== undefined) due = Math.max(due ?? since, dueFrom(p, since));
  }
  return due ?? Number.POSITIVE_INFINITY;
}

/**
 * When the controlling agent may nominate the highest-priority valid pair (`pairs` sorted by priority):
 * once no better pair can still succeed or is still worth waiting for, and at the latest after the wait
 * from the first check. Undefined: no valid pair yet.
 */
export function nominationDueAt(
  pairs: readonly CandidatePair[],
  timing: NominationTiming,
): number | undefined {
  const best = pairs.find((p) => p.state === 'succeeded');
  if (!best) return undefined;
  let due = Number.NEGATIVE_INFINITY;
  for (const p of pairs) {
    if (p.priority <= best.priority || !mayStillBecomeValid(p) || timing.cannotSucceed?.(p)) continue;
    due = Math.max(due, betterPairDueAt(p, best, pairs));
  }
  if (timing.firstCheckAt !== undefined)
    due = Math.min(due, timing.firstCheckAt + nominationWaitFor(best, timing));
  return due;
}

/**
 * RFC 8445 §8.1.1 regular nomination: the controlling agent picks the highest-priority valid pair once no
 * better pair can still succeed or is still worth waiting for (`nominationDueAt`).
 */
export function choosePairToNominate(
  pairs: readonly CandidatePair[],
  timing: NominationTiming,
): CandidatePair | undefined {
  const due = nominationDueAt(pairs, timing);
  if (due === undefined || timing.now < due) return undefined;
  return pairs.find((p) => p.state === 'succeeded');
}
