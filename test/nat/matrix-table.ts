import type { CellResult } from './run-cell.js';

/** The verdict of one cell against its expectation. */
export function verdict(r: CellResult): 'ok' | 'MISMATCH' | 'not asserted' {
  if (!r.cell.asserted) return 'not asserted';
  if (r.cell.expect === 'fail') return r.outcome === 'failed' ? 'ok' : 'MISMATCH';
  if (r.outcome !== 'direct') return 'MISMATCH';
  const text = `a=${r.pairA ?? '-'}; b=${r.pairB ?? '-'}`;
  return !r.cell.via || r.cell.via.test(text) ? 'ok' : 'MISMATCH';
}

/** The matrix as a plain-text table: cell, outcome, selected pair (local/remote from each side), time. */
export function formatMatrix(results: readonly CellResult[]): string {
  const rows = results.map((r) => [
    r.cell.name,
    r.cell.expect === 'fail' ? 'fail' : 'direct',
    r.outcome === 'failed' ? `failed (${r.errorCodes.join(', ')})` : r.outcome,
    r.pairA ?? '-',
    r.pairB ?? '-',
    r.outcome === 'direct' ? `${r.connectedMs} ms` : `${Math.round(r.wallMs)} ms to exit`,
    verdict(r),
  ]);
  const header = [
    'cell (hostA <-> hostB)',
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
    .filter((r) => !r.cell.asserted)
    .map((r) =>
      `* ${r.cell.name}: ${r.outcome === 'direct' ? 'connected this time, but' : ''} ${r.cell.why ?? ''}`.replace(
        '  ',
        ' ',
      ),
    );
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ...notes].join('\n');
}
