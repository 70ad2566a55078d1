/**
 * Failure detection timings (issue 9): two agents on 127.0.0.1 whose only path goes through a byte relay in
 * this process (test/agent/consent-proxy.ts). Per run, on fresh pairs:
 * - frozen peer (the relay stops reading both ways): ms to `disconnected` and to `failed`, against the
 *   configured interval and timeout (the baseline: what RFC 7675 asks for);
 * - peer reset (RST on the connection): ms to `disconnected`;
 * - peer FIN then close (the socket gone after its FIN, we send nothing): ms to `disconnected`.
 * Prints one JSON object with medians.
 * Run: npx tsx bench/consent.ts [--runs 5] [--interval 200] [--timeout 1500]
 */
import type { IceAgent, IceState } from '../src/index.js';
import { type ProxiedPair, proxiedPair } from '../test/agent/consent-proxy.js';
import { median } from './support.js';

function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

const runs = numberOption('runs', 5);
const intervalMs = numberOption('interval', 200);
const timeoutMs = numberOption('timeout', 1500);

function reached(agent: IceAgent, state: IceState): Promise<number> {
  return new Promise((resolve) => {
    const listener = (s: IceState) => {
      if (s !== state) return;
      agent.off('state', listener);
      resolve(performance.now());
    };
    agent.on('state', listener);
  });
}

async function timed(
  act: (p: ProxiedPair) => void,
  states: IceState[],
  options = { consentIntervalMs: intervalMs, consentTimeoutMs: timeoutMs },
): Promise<number[]> {
  const p = await proxiedPair(options);
  try {
    const waits = states.map((s) => reached(p.alice, s));
    const start = performance.now();
    act(p);
    return (await Promise.all(waits)).map((t) => t - start);
  } finally {
    p.close();
  }
}

const frozen = { disconnected: [] as number[], failed: [] as number[] };
const reset: number[] = [];
const finClose: number[] = [];
for (let i = 0; i < runs; i++) {
  const [d, f] = await timed((p) => p.proxy.freeze(), ['disconnected', 'failed']);
  frozen.disconnected.push(d ?? Number.NaN);
  frozen.failed.push(f ?? Number.NaN);
  const [r] = await timed((p) => p.proxy.towardsAlice().resetAndDestroy(), ['disconnected']);
  reset.push(r ?? Number.NaN);
  const [c] = await timed(
    (p) => {
      const s = p.proxy.towardsAlice();
      s.end(() => s.destroy());
    },
    ['disconnected'],
  );
  finClose.push(c ?? Number.NaN);
}

const round = (n: number) => Math.round(n * 10) / 10;
console.log(
  JSON.stringify({
    bench: 'consent',
    runs,
    intervalMs,
    timeoutMs,
    frozenPeer: {
      disconnectedMs: round(median(frozen.disconnected)),
      disconnectedPerInterval: round(median(frozen.disconnected) / intervalMs),
      failedMs: round(median(frozen.failed)),
      failedPerTimeout: round(median(frozen.failed) / timeoutMs),
    },
    peerResetDisconnectedMs: round(median(reset)),
    peerFinThenCloseDisconnectedMs: round(median(finClose)),
    peerFinThenClosePerInterval: round(median(finClose) / intervalMs),
  }),
);
