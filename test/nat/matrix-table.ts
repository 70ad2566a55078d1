import type { CellResult } from './run-cell.js';

/** The verdict of one cell against its expectation. */
export function verdict(r: CellResult): 'ok' | 'MISMATCH' | 'not asserted' {
  if (!r.cell.asserted) return 'not asserted';
  if (r.matched) return r.matched.matches >= (r.cell.minMatches ?? r.matched.attempts) ? 'ok' : 'MISMATCH';
  return attemptVerdict(r);
}

/** Whether one run of a cell met its expectation (for cells run several times). */
export function attemptVerdict(r: CellResult): 'ok' | 'MISMATCH' {
  if (r.cell.expect === 'fail') return r.outcome === 'failed' ? 'ok' : 'MISMATCH';
  // a 'direct' cell that went through the relay (TURN configured) did not get through the NATs
  if (r.outcome !== r.cell.expect) return 'MISMATCH';
  const text = `a=${r.pairA ?? '-'}; b=${r.pairB ?? '-'}`;
  return !r.cell.via || r.cell.via.test(text) ? 'ok' : 'MISMATCH';
}

/**
 * The matrix as a plain-text table: cell, whether TURN was configured, outcome, selected pair (local/remote from
 * each side), time to connected (or to exit when failed).
 */
export function formatMatrix(results: readonly CellResult[]): string {
  const rows = results.map((r) => [
    r.cell.name,
    r.cell.turn ? 'yes' : '-',
    r.cell.expect,
    (r.outcome === 'failed' ? `failed (${r.errorCodes.join(', ')})` : r.outcome) +
      (r.matched ? ` ${r.matched.matches}/${r.matched.attempts}` : ''),
    r.pairA ?? '-',
    r.pairB ?? '-',
    r.connectedMs !== undefined ? `${r.connectedMs} ms` : `${Math.round(r.wallMs)} ms to exit`,
    verdict(r),
  ]);
  const header = [
    'cell (hostA <-> hostB)',
    'TURN',
    'expected',
    'outcome',
    'pair at A (local/remote)',
    'pair at B',
    'time',
    'verdict',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const notes = results
    .filter((r) => !r.cell.asserted || r.matched)
    .map((r) => {
      if (r.matched) {
        const { matches, attempts } = r.matched;
        return `* ${r.cell.name}: ${matches} of ${attempts} attempts on fresh labs met the expectation (${r.cell.asserted ? `${r.cell.minMatches ?? attempts} required` : 'not asserted'}; time = median of those); ${r.cell.why ?? ''}`;
      }
      const connected = r.outcome === 'direct' || r.outcome === 'relay';
      return `* ${r.cell.name}: ${connected ? `connected (${r.outcome}) this time, but ` : ''}${r.cell.why ?? ''}`;
    });
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ...notes].join('\n');
}
