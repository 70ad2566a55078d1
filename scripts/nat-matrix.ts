/**
 * `npm run nat-matrix`: runs every cell of the NAT matrix (test/nat/cells.ts) in the lab and prints the table.
 * Needs root, iproute2, nftables and coturn. Exit code 1 when an asserted cell does not match its expectation.
 */
import { MATRIX_CELLS } from '../test/nat/cells.js';
import { attemptVerdict, formatMatrix, verdict } from '../test/nat/matrix-table.js';
import { type CellResult, runCellAttempts } from '../test/nat/run-cell.js';
import { missingForNetns } from '../test/support/require.js';

const missing = missingForNetns(['nft', 'sysctl', 'turnserver']);
if (missing.length > 0) {
  console.error(
    `nat-matrix needs ${missing.join(', ')} (run as root on Debian with iproute2, nftables and coturn)`,
  );
  process.exit(2);
}
const results: CellResult[] = [];
const started = performance.now();
for (const cell of MATRIX_CELLS) {
  process.stderr.write(`${cell.name} ... `);
  const r = await runCellAttempts(cell, { timeoutS: 10 }, (one) => attemptVerdict(one) === 'ok');
  results.push(r);
  process.stderr.write(`${r.outcome}\n`);
}
console.log(formatMatrix(results));
console.log(`\n${results.length} cells in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(results.some((r) => verdict(r) === 'MISMATCH') ? 1 : 0);
