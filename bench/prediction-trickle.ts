/**
 * Sequential port prediction the way users run it: both `ice-tcp connect` processes started at once, lines
 * trickled as they are printed, each cell over fresh NAT labs. Prints one JSON line per cell: direct
 * connections out of the runs, median time to connected, and the pairs that won. The RST-filtering cells are
 * here rather than asserted in test/nat/prediction-trickle.test.ts (see the README, "Sequential prediction").
 * Needs root, `ip` and `nft`. `tsx bench/prediction-trickle.ts [runs] [cell name substring]`
 */
import type { LabOptions, NatFiltering, NatMapping } from '../test/support/lab.js';
import { countDirect } from '../test/support/lab-trickle.js';
import { median } from './support.js';

const RUNS = Number(process.argv[2] ?? 5);
const ONLY = process.argv[3];

const nat = (mapping: NatMapping, filtering: NatFiltering = 'drop') => ({ mapping, filtering });
const CELLS: Array<{ name: string; lab: LabOptions; backgroundRate?: number }> = [
  { name: 'sequential+drop <-> preserve+drop', lab: { a: nat('sequential'), b: nat('preserve') } },
  { name: 'sequential+drop <-> sequential+drop', lab: { a: nat('sequential'), b: nat('sequential') } },
  {
    name: 'sequential+rst <-> preserve+rst',
    lab: { a: nat('sequential', 'rst'), b: nat('preserve', 'rst') },
  },
  {
    name: 'sequential+rst <-> sequential+rst',
    lab: { a: nat('sequential', 'rst'), b: nat('sequential', 'rst') },
  },
  {
    name: 'sequential+drop <-> preserve+drop, 200 background flows/s while hostA gathers',
    lab: { a: nat('sequential'), b: nat('preserve') },
    backgroundRate: 200,
  },
];

for (const cell of CELLS) {
  if (ONLY !== undefined && !cell.name.includes(ONLY)) continue;
  const r = await countDirect(cell.lab, RUNS, { timeoutS: 8, backgroundRate: cell.backgroundRate });
  const times = r.results.flatMap((x) => (x.connectedMs === undefined ? [] : [x.connectedMs]));
  const pairs = r.results.map((x) => (x.outcome === 'direct' ? `a=${x.pairA}; b=${x.pairB}` : x.outcome));
  console.log(
    JSON.stringify({
      cell: cell.name,
      direct: r.direct,
      runs: r.runs,
      medianConnectedMs: times.length > 0 ? median(times) : null,
      pairs,
    }),
  );
}
