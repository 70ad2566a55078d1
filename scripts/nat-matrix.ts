/**
 * `npm run nat-matrix -- [--runs N] [--cell TEXT]... [--rtt MS] [--signal-offset MS] [--json]`: runs cells of the NAT matrix
 * (test/nat/cells.ts), each on N fresh labs (default 5), and prints per cell the share of runs that met the
 * expectation, the median and p90 time to connected, and the selected pairs seen; `--json` prints the same as
 * one JSON object instead. `--cell` keeps the cells whose name contains TEXT (repeatable); `--logs DIR` writes
 * each run's two CLI stderr streams there (set `DEBUG=ice-tcp:*` to fill them). `--rtt MS` adds that round-trip
 * time between the two hosts (the lab's userspace delay lines; needs ethtool and /usr/bin/python3). `--dist` builds
 * and runs the compiled CLI (`dist/cli.js`, what an installed `ice-tcp` runs) instead of the sources through tsx.
 * `--signal-offset MS` hands hostA the peer's lines MS later than hostB gets hostA's (negative: hostB later), as a
 * signalling server's latency does; by default both get them at once.
 * Needs root, iproute2, nftables and coturn. Exit code 1 when an asserted cell met its expectation too rarely.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MATRIX_CELLS } from '../test/nat/cells.js';
import { type CellRates, formatRates, summariseCell } from '../test/nat/matrix-rates.js';
import { type CellResult, runCell } from '../test/nat/run-cell.js';
import { missingForNetns } from '../test/support/require.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    cell: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    logs: { type: 'string' },
    rtt: { type: 'string', default: '0' },
    'signal-offset': { type: 'string', default: '0' },
    dist: { type: 'boolean', default: false },
  },
});
if (values.dist) {
  // the CLI peers read it (test/support/line-peer.ts); a stale build would measure old code, so build first
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  process.env.CLI_FROM_DIST = '1';
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
  console.error(`nat-matrix: --runs needs an integer from 1 to 1000, got ${values.runs}`);
  process.exit(2);
}
const rttMs = Number(values.rtt);
if (!(rttMs >= 0 && rttMs <= 2000)) {
  console.error(`nat-matrix: --rtt needs milliseconds from 0 to 2000, got ${values.rtt}`);
  process.exit(2);
}
const signalOffsetMs = Number(values['signal-offset']);
if (!(Math.abs(signalOffsetMs) <= 5000)) {
  console.error(
    `nat-matrix: --signal-offset needs milliseconds from -5000 to 5000, got ${values['signal-offset']}`,
  );
  process.exit(2);
}
const wanted = values.cell ?? [];
const cells = MATRIX_CELLS.filter((c) => wanted.length === 0 || wanted.some((w) => c.name.includes(w)));
if (cells.length === 0) {
  console.error(`nat-matrix: no cell matches ${wanted.join(', ')}`);
  process.exit(2);
}
const missing = missingForNetns([
  'nft',
  'sysctl',
  'turnserver',
  ...(rttMs > 0 ? ['ethtool', '/usr/bin/python3'] : []),
]);
if (missing.length > 0) {
  console.error(
    `nat-matrix needs ${missing.join(', ')} (run as root on Debian with iproute2, nftables and coturn)`,
  );
  process.exit(2);
}
/** Writes one run's CLI stderr (hostA, hostB) to DIR/NAME-a.log and -b.log. */
function saveLogs(dir: string, name: string, r: CellResult): void {
  mkdirSync(dir, { recursive: true });
  for (const [i, side] of ['a', 'b'].entries()) {
    writeFileSync(join(dir, `${name}-${side}.log`), `${r.outcome}\n${r.stderr?.[i] ?? ''}`);
  }
}

const rates: CellRates[] = [];
const started = performance.now();
for (const cell of cells) {
  const results: CellResult[] = [];
  process.stderr.write(`${cell.name}:`);
  for (let i = 0; i < runs; i++) {
    const r = await runCell(cell, { timeoutS: 10, rttMs, signalOffsetMs });
    results.push(r);
    if (values.logs) saveLogs(values.logs, `${cell.name.replace(/[^\w+-]+/g, '_')}-${i + 1}`, r);
    process.stderr.write(` ${r.outcome}${r.connectedMs === undefined ? '' : ` ${r.connectedMs}ms`}`);
  }
  process.stderr.write('\n');
  rates.push(summariseCell(cell, results));
}
const seconds = (performance.now() - started) / 1000;
if (values.json) {
  console.log(JSON.stringify({ runs, rttMs, signalOffsetMs, seconds: Math.round(seconds), cells: rates }));
} else {
  console.log(formatRates(rates));
  console.log(
    `\n${cells.length} cells x ${runs} fresh labs at ${rttMs} ms added RTT${signalOffsetMs ? `, signal offset ${signalOffsetMs} ms` : ''} in ${seconds.toFixed(1)} s`,
  );
}
process.exit(rates.some((r) => r.verdict === 'MISMATCH') ? 1 : 0);
