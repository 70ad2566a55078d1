import { predictedKind } from '../candidate/predicted.js';
import type { Candidate, IceRole } from '../candidate/types.js';
import { type CandidatePair, isPassiveLocal } from './pair.js';

/**
 * Pairing and ordering of sequentially predicted candidates (`x-ice-tcp-predicted sequential`).
 *
 * A sequential NAT hands the next external port to each new outbound flow, so which port a flow gets is fixed
 * by the order in which flows leave the NAT after the measurement, not by which local port sends them. When
 * both peers sit behind such NATs, each pairs its predicted #k (k = rank by advertised port, which both sides
 * derive from the ports alone) with one partner of the peer's, and checks those pairs first, in rising k,
 * before any other pair opens a flow that would take a predicted port. Retransmitted SYNs keep their 5-tuple
 * and so their mapping.
 *
 * Partners: the controlling agent's #i dials the peer's #i, the controlled agent's #j dials the peer's
 * #(2j-1). If m_A and m_B stray flows left the two NATs after the measurements, the controlling side's i-th
 * flow has port #(i+m_A) and the controlled side's j-th #(j+m_B); they meet when i = j+m_B and
 * 2j-1 = i+m_A, i.e. at j = m_A+m_B+1. So a window of W ports survives up to (W-1)/2 stray flows in total
 * (3 for 8), where #k with #k on both sides survives none; with no stray flow both meet at #1.
 * Ranking by ascending port assumes a NAT counting upwards, as the measured ones here do.
 */

/** The rank of the peer's predicted candidate that our predicted #k is paired with. */
export function partnerRank(k: number, role: IceRole): number {
  return role === 'controlling' ? k : 2 * k - 1;
}

/** True for a simultaneous-open candidate predicted from a sequential NAT's step. */
export function isSequentialPredicted(c: Candidate): boolean {
  return c.tcpType === 'so' && predictedKind(c) === 'sequential';
}

/** Ranks of no candidate: empty for good, so one instance serves every checklist. */
const NO_RANKS: ReadonlyMap<unknown, number> = new Map();

/**
 * 1-based rank of each sequentially predicted candidate among those of the same public address, by
 * advertised port: the order in which the NAT gives those ports out. Other candidates get no rank.
 */
export function sequentialRanks<C extends Candidate>(candidates: Iterable<C>): ReadonlyMap<C, number> {
  const groups = new Map<string, C[]>();
  for (const c of candidates) {
    if (!isSequentialPredicted(c)) continue;
    const group = groups.get(c.address);
    if (group) group.push(c);
    else groups.set(c.address, [c]);
  }
  // the common case, shared: a checklist keeps its ranks for as long as it lives (one per held session)
  if (groups.size === 0) return NO_RANKS as ReadonlyMap<C, number>;
  const ranks = new Map<C, number>();
  for (const group of groups.values()) {
    group.sort((a, b) => a.port - b.port);
    for (const [i, c] of group.entries()) ranks.set(c, i + 1);
  }
  return ranks;
}

/** Ranks of both sides' sequentially predicted candidates and our role, which decides the partners. */
export interface SequentialRanks {
  local: ReadonlyMap<Candidate, number>;
  remote: ReadonlyMap<Candidate, number>;
  role: IceRole;
}

/** Our k when the pair is a predicted pair of partners (see {@link partnerRank}), else undefined. */
export function partnerPairRank(
  pair: { local: Candidate; remote: Candidate },
  ranks: SequentialRanks,
): number | undefined {
  const k = ranks.local.get(pair.local);
  return k !== undefined && partnerRank(k, ranks.role) === ranks.remote.get(pair.remote) ? k : undefined;
}

/**
 * Whether two candidates may be paired: two sequentially predicted ones only as partners (any other
 * combination of them could only meet by chance, and each try takes a NAT port).
 */
export function allowsSequentialPairing(
  local: Candidate,
  remote: Candidate,
  ranks: SequentialRanks,
): boolean {
  if (!isSequentialPredicted(local) || !isSequentialPredicted(remote)) return true;
  return partnerPairRank({ local, remote }, ranks) !== undefined;
}

/**
 * The predicted pair to check next: the lowest k not checked yet (waiting or still frozen: its NAT port goes
 * to whichever flow leaves first, so it must not wait for a foundation to thaw). Undefined once all went out.
 */
export function nextPartnerPair(
  pairs: readonly CandidatePair[],
  ranks: SequentialRanks,
): CandidatePair | undefined {
  let best: CandidatePair | undefined;
  let bestK = Number.POSITIVE_INFINITY;
  for (const p of pairs) {
    if (isPassiveLocal(p) || p.checksSent > 0 || (p.state !== 'waiting' && p.state !== 'frozen')) continue;
    const k = partnerPairRank(p, ranks);
    if (k !== undefined && k < bestK) {
      best = p;
      bestK = k;
    }
  }
  return best;
}
