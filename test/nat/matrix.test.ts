import { afterAll, describe, expect, it } from 'vitest';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { MATRIX_CELLS } from './cells.js';
import { attemptVerdict, formatMatrix, verdict } from './matrix-table.js';
import { type CellResult, runCellAttempts } from './run-cell.js';

const ok = requireOrSkip(
  'NAT matrix (test/nat/matrix.test.ts)',
  missingForNetns(['nft', 'sysctl', 'turnserver']),
);

/** `connect --timeout`: a failing cell must end within it plus MARGIN_MS. */
const TIMEOUT_S = 10;
const MARGIN_MS = 5000;
/** Through the relay the goal is 1 s from the remote candidates to connected; this only catches a regression. */
const RELAY_CONNECTED_LIMIT_MS = 5000;

describe.skipIf(!ok)('NAT matrix: two agent processes behind lab NATs, STUN, some with TURN', () => {
  const results: CellResult[] = [];
  afterAll(() => {
    if (results.length > 0) console.info(`\n${formatMatrix(results)}\n`);
  });

  for (const cell of MATRIX_CELLS) {
    it(
      cell.name,
      async () => {
        const r = await runCellAttempts(cell, { timeoutS: TIMEOUT_S }, (one) => attemptVerdict(one) === 'ok');
        results.push(r);
        const seen = `${r.outcome} a=${r.pairA ?? '-'} b=${r.pairB ?? '-'} ${r.errorCodes.join(',')}\n${r.detail ?? ''}`;
        if (!cell.asserted) {
          console.info(
            `${cell.name}: ${r.matched ? `${r.matched.matches}/${r.matched.attempts} met the expectation` : r.outcome === 'failed' || r.outcome === 'broken' ? 'not achieved' : `connected (${r.outcome}, not asserted)`}: ${cell.why}`,
          );
          return;
        }
        if (r.matched) {
          console.info(
            `${cell.name}: ${r.matched.matches}/${r.matched.attempts} attempts connected ${cell.expect}`,
          );
          expect(r.matched.matches, seen).toBeGreaterThanOrEqual(cell.minMatches ?? r.matched.attempts);
          return;
        }
        if (cell.expect !== 'fail') {
          expect(r.outcome, seen).toBe(cell.expect);
          expect(r.exitCodes).toEqual([0, 0]);
          if (cell.expect === 'relay') expect(r.connectedMs).toBeLessThan(RELAY_CONNECTED_LIMIT_MS);
        } else {
          // a clean failure: both report ERR_ICE_FAILED or ERR_ICE_TIMEOUT, exit non-zero, no hang
          expect(r.outcome, seen).toBe('failed');
          for (const code of r.exitCodes) expect(code).not.toBe(0);
          expect(r.exitCodes).not.toContain(null);
          expect(r.wallMs).toBeLessThan(TIMEOUT_S * 1000 + MARGIN_MS);
        }
        expect(verdict(r), seen).toBe('ok');
      },
      60_000 * (cell.attempts ?? 1),
    );
  }
});
