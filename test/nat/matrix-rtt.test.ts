import { describe, expect, it } from 'vitest';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { MATRIX_CELLS } from './cells.js';
import { attemptVerdict } from './matrix-table.js';
import { runCell } from './run-cell.js';

const ok = requireOrSkip(
  'NAT matrix at 20 ms RTT (test/nat/matrix-rtt.test.ts)',
  missingForNetns(['nft', 'sysctl', 'turnserver', 'ethtool', '/usr/bin/python3']),
);

/** hostA↔hostB round trip through the lab's delay lines (a host↔server one is half of it). */
const RTT_MS = 20;

/**
 * A real round trip changes the races: a SYN crosses the peer's only after RTT/2, checks and nominations wait
 * for answers, and the relay's fallback competes with hole punching that takes RTTs. One cell of each way
 * through: host to host, NAT to NAT by simultaneous open (TURN configured: direct must still win), and through
 * the relay. Outcomes only: the times are the matrix script's (`npm run nat-matrix -- --rtt 20`, README).
 */
const CELLS = ['public <-> public', 'preserve+drop <-> preserve+drop', 'random+drop <-> preserve+drop'];

describe.skipIf(!ok)(`NAT matrix at ${RTT_MS} ms RTT`, () => {
  for (const name of CELLS) {
    const cell = MATRIX_CELLS.find((c) => c.name === name);
    it(`${name}: ${cell?.expect}`, async () => {
      if (!cell) throw new Error(`no matrix cell named ${name}`);
      const r = await runCell(cell, { timeoutS: 10, rttMs: RTT_MS });
      const seen = `${r.outcome} a=${r.pairA ?? '-'} b=${r.pairB ?? '-'} ${r.errorCodes.join(',')}\n${r.detail ?? ''}`;
      console.info(`${name} at ${RTT_MS} ms RTT: ${r.outcome} in ${r.connectedMs ?? '-'} ms`);
      expect(attemptVerdict(r), seen).toBe('ok');
      expect(r.exitCodes, seen).toEqual([0, 0]);
    }, 60_000);
  }
});
