/**
 * Rates of the NAT matrix over fresh labs (`npm run nat-matrix -- --runs N`): each cell run N times, each on a
 * fresh lab, summarised as the share of runs that met the cell's expectation, the median and p90 time to
 * connected of those, and the selected pairs seen. Pure: scripts/nat-matrix.ts runs the labs.
 */
import type { MatrixCell } from './cells.js';
import { attemptVerdict } from './matrix-table.js';
import type { CellResult } from './run-cell.js';

/** One cell's runs, summarised. */
export interface CellRates {
  cell: string;
  expect: MatrixCell['expect'];
  turn: boolean;
  runs: number;
  /** Runs that met the expectation (outcome and selected pair). */
  matches: number;
  /** Share of runs the cell must meet: `minMatches / attempts` for a racy cell, else all of them. */
  required: number;
  /** Median and p90 time to connected of the matching runs (ms; to exit for a 'fail' cell). */
  medianMs: number | undefined;
  p90Ms: number | undefined;
  /** Every matching run's time, in run order (to merge blocks of runs). */
  timesMs: number[];
  /** Each distinct `a=<pair>; b=<pair>` of the matching runs with its count, most frequent first. */
  pairs: Array<{ pairs: string; count: number }>;
  /** What the runs that did not match ended in (outcome and error codes). */
  misses: string[];
  verdict: 'ok' | 'MISMATCH' | 'not asserted';
}

/** The share of runs a cell must meet. */
export function requiredRate(cell: MatrixCell): number {
  return cell.attempts ? (cell.minMatches ?? cell.attempts) / cell.attempts : 1;
}

/** Nearest-rank percentile (p in 0..100) of `values`; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Summarises `results`, all runs of `cell`. */
export function summariseCell(cell: MatrixCell, results: readonly CellResult[]): CellRates {
  const matching = results.filter((r) => attemptVerdict(r) === 'ok');
  const times = matching.map((r) => (cell.expect === 'fail' ? r.wallMs : (r.connectedMs ?? Number.NaN)));
  const finite = times.filter((t) => Number.isFinite(t)).map((t) => Math.round(t * 10) / 10);
  const counts = new Map<string, number>();
  for (const r of matching) {
    const key = `a=${r.pairA ?? '-'}; b=${r.pairB ?? '-'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const required = requiredRate(cell);
  const enough = results.length > 0 && matching.length >= Math.ceil(required * results.length - 1e-9);
  return {
    cell: cell.name,
    expect: cell.expect,
    turn: cell.turn === true,
    runs: results.length,
    matches: matching.length,
    required,
    medianMs: percentile(finite, 50),
    p90Ms: percentile(finite, 90),
    timesMs: finite,
    pairs: [...counts].map(([pairs, count]) => ({ pairs, count })).sort((a, b) => b.count - a.count),
    misses: results
      .filter((r) => attemptVerdict(r) !== 'ok')
      .map((r) => `${r.outcome}${r.errorCodes.length ? ` (${r.errorCodes.join(', ')})` : ''}`),
    verdict: !cell.asserted ? 'not asserted' : enough ? 'ok' : 'MISMATCH',
  };
}

const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);

/** The rates as a plain-text table, one row per cell, then the pair types and misses per cell. */
export function formatRates(rates: readonly CellRates[]): string {
  const header = ['cell (hostA <-> hostB)', 'TURN', 'expected', 'met', 'median', 'p90', 'verdict'];
  const rows = rates.map((r) => [
    r.cell,
    r.turn ? 'yes' : '-',
    r.expect,
    `${r.matches}/${r.runs}${r.required < 1 ? ` (>= ${Math.round(r.required * 100)} %)` : ''}`,
    ms(r.medianMs),
    ms(r.p90Ms),
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cols: string[]) =>
    cols
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const notes = rates.flatMap((r) => [
    ...r.pairs.map((p) => `* ${r.cell}: ${p.count}x ${p.pairs}`),
    ...(r.misses.length > 0 ? [`* ${r.cell}: missed ${r.misses.join('; ')}`] : []),
  ]);
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ...notes].join('\n');
}
