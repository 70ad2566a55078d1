import { describe, expect, it } from 'vitest';
import { MATRIX_CELLS } from './cells.js';
import { formatRates, percentile, requiredRate, summariseCell } from './matrix-rates.js';
import type { CellResult } from './run-cell.js';

const cell = (name: string) => MATRIX_CELLS.find((c) => c.name === name)!;

function run(c: ReturnType<typeof cell>, outcome: CellResult['outcome'], connectedMs?: number): CellResult {
  return {
    cell: c,
    outcome,
    pairA: outcome === 'relay' ? 'host active/relay passive' : 'host so/srflx so',
    pairB: outcome === 'relay' ? 'relay passive/prflx active' : 'host so/srflx so',
    connectedMs,
    errorCodes: outcome === 'failed' ? ['ERR_ICE_FAILED', 'ERR_ICE_FAILED'] : [],
    exitCodes: [0, 0],
    wallMs: 2000,
  };
}

describe('NAT matrix rates over fresh labs', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([30, 10, 20], 50)).toBe(20);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  });

  it('a cell that must always connect misses its rate with one failure in five', () => {
    const c = cell('preserve+drop <-> preserve+drop');
    const rates = summariseCell(c, [...[30, 31, 29, 40].map((t) => run(c, 'direct', t)), run(c, 'failed')]);
    expect(rates).toMatchObject({
      runs: 5,
      matches: 4,
      required: 1,
      medianMs: 30,
      p90Ms: 40,
      verdict: 'MISMATCH',
    });
    expect(rates.misses).toEqual(['failed (ERR_ICE_FAILED, ERR_ICE_FAILED)']);
    expect(rates.pairs).toEqual([{ pairs: 'a=host so/srflx so; b=host so/srflx so', count: 4 }]);
    expect(formatRates([rates])).toContain('4/5');
  });

  it('a racy cell needs its share of runs only, and a relay where direct was expected does not count', () => {
    const c = cell('preserve+rst <-> preserve+rst');
    expect(requiredRate(c)).toBeCloseTo(5 / 8);
    const rates = summariseCell(c, [run(c, 'direct', 40), run(c, 'direct', 50), run(c, 'relay', 800)]);
    expect(rates).toMatchObject({ matches: 2, verdict: 'ok', medianMs: 40 });
  });
  it("counts either host pair as host to host: hostB's active dial to hostA's passive shows hostB as prflx", () => {
    // with the peer's lines 50 ms late (`--signal-offset 50`) hostA answered hostB's check before it had dialled and
    // nominated that pair: a direct path between the two LAN addresses all the same
    const pairs = 'a=host passive/prflx active; b=host active/host passive';
    for (const name of ['same NAT (preserve+drop)', 'public <-> public']) {
      expect(cell(name).via?.test(pairs), name).toBe(true);
      expect(cell(name).via?.test('a=host active/host passive; b=host passive/prflx active'), name).toBe(
        true,
      );
      expect(cell(name).via?.test('a=srflx so/srflx so; b=srflx so/srflx so'), name).toBe(false);
      expect(cell(name).via?.test('a=host active/relay passive; b=relay passive/prflx active'), name).toBe(
        false,
      );
    }
  });
});
