import createDebug from 'debug';
import type { CandidatePair, PairState } from '../checklist/index.js';

const log = createDebug('ice-tcp:checklist');

/**
 * What `DEBUG=ice-tcp:*` shows of the checklist: every check sent, every pair state change with its reason,
 * the nomination, and at failure one line per pair saying why it did not work. The checklist stays free of
 * I/O: this observer compares the pairs' states after each round the agent runs.
 */
export class PairLog {
  /** Made when the log is first enabled: without it, a held session keeps no Map for it. */
  private seen: Map<string, PairState> | undefined;

  /** A check is going out on the pair. */
  checkSent(pair: CandidatePair, useCandidate: boolean, triggered: boolean): void {
    if (!log.enabled) return;
    const kind = `${triggered ? 'triggered' : 'ordinary'} check${useCandidate ? ' with USE-CANDIDATE' : ''}`;
    log('%s: %s #%d', describePair(pair), kind, pair.checksSent);
  }

  /** The pair was nominated. */
  nominated(pair: CandidatePair): void {
    log(
      '%s: nominated (rtt %s ms)',
      describePair(pair),
      pair.rttMs === undefined ? '?' : Math.round(pair.rttMs),
    );
  }

  /** Logs the pairs whose state changed since the last call, and those that disappeared. */
  observe(pairs: readonly CandidatePair[]): void {
    if (!log.enabled) return;
    const current = new Set<string>();
    this.seen ??= new Map();
    for (const pair of pairs) {
      current.add(pair.id);
      const before = this.seen.get(pair.id);
      if (before === pair.state) continue;
      this.seen.set(pair.id, pair.state);
      log('%s: %s -> %s (%s)', describePair(pair), before ?? 'new', pair.state, reasonOf(pair, before));
    }
    for (const id of [...this.seen.keys()]) {
      if (current.has(id)) continue;
      this.seen.delete(id);
      log('pair %s: removed (pruned: lower priority than maxPairs allows, or redundant)', id);
    }
  }

  /** ICE failed: one line per pair with why it did not work. */
  summary(reason: string, pairs: readonly CandidatePair[]): void {
    log('ICE failed: %s; %d pair(s)', reason, pairs.length);
    for (const pair of pairs) log('  %s', summaryLine(pair));
  }
}

/** The pair as a user recognises it: ids, types and the addresses it connects. */
export function describePair(pair: CandidatePair): string {
  const { local, remote } = pair;
  return (
    `pair ${pair.id} [${local.type} ${local.tcpType} ${local.baseAddress}:${local.basePort}` +
    ` -> ${remote.type} ${remote.tcpType} ${remote.address}:${remote.port}]`
  );
}

/** One line of the failure summary. */
export function summaryLine(pair: CandidatePair): string {
  const counts = `${pair.checksSent} check(s) sent, ${pair.checksReceived} received`;
  return `${describePair(pair)}: ${pair.state}, ${whyNot(pair)}; ${counts}`;
}

function whyNot(pair: CandidatePair): string {
  switch (pair.state) {
    case 'failed':
      return pair.failureReason ?? 'failed';
    case 'succeeded':
      return 'worked but was not nominated';
    case 'in-progress':
      return 'check still unanswered';
    default:
      if (pair.local.tcpType === 'passive' && pair.checksReceived === 0)
        return 'the peer never connected to our passive candidate';
      return pair.checksSent === 0 ? 'never checked' : 'waiting for another check';
  }
}

function reasonOf(pair: CandidatePair, before: PairState | undefined): string {
  switch (pair.state) {
    case 'failed':
      return pair.failureReason ?? 'failed';
    case 'succeeded':
      return pair.rttMs === undefined ? 'check answered' : `check answered in ${Math.round(pair.rttMs)} ms`;
    case 'in-progress':
      return 'check sent';
    case 'waiting':
      if (pair.checksReceived > 0) return "the peer's check triggers ours";
      return before === undefined ? 'paired' : 'unfrozen';
    default:
      return before === undefined ? 'paired' : 'frozen';
  }
}
