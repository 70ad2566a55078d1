/**
 * `npx tsx bench/delay-line.ts [--rtt MS] [--dials N] [--runs N]`: how much the NAT lab's userspace delay line
 * (test/support/fixtures/delay-line.py) holds beyond the round-trip time it is set to. On each of `runs` fresh
 * labs (hostA behind a preserving NAT, hostB public), alternately without delay and with `rttMs` on both links,
 * hostA dials hostB `dials` times; the probe times connect-to-first-line inside hostA's namespace, which holds
 * 2 round trips (hostB's probe writes its line once it accepts, after the handshake's last ACK). Prints one JSON object: per setting the dial times' median and p90; the delay line's own
 * excess (median with delay - 2 RTT - median without: the hosts' own time, large on a loaded machine, cancels
 * out); what the delay lines measured of themselves (late reads do not add to the hold, late sends do); the load
 * average. Needs root, nft, ethtool, python3.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLab, type Lab, startProbe } from '../test/support/lab.js';
import { median, percentile } from './support.js';

const { values } = parseArgs({
  options: {
    rtt: { type: 'string', default: '40' },
    dials: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
  },
});
const rttMs = Number(values.rtt);
const dials = Number(values.dials);
const runs = Number(values.runs);
const PORT = 9100;

const loadBefore = loadavg()[0];
const times: Record<'plain' | 'delayed', number[]> = { plain: [], delayed: [] };
const delayLines: unknown[] = [];

async function measure(kind: 'plain' | 'delayed'): Promise<void> {
  const lab: Lab = await createLab({ a: {}, b: 'public', rttMs: kind === 'plain' ? 0 : rttMs });
  try {
    const [hostA, hostB] = await Promise.all([startProbe(lab, 'hostA'), startProbe(lab, 'hostB')]);
    await hostB.listen(PORT);
    await hostA.dial(lab.hosts.hostB.address, PORT, { timeoutMs: 5000 }); // first contact: ARP, caches
    for (let i = 0; i < dials; i++) {
      const answer = await hostA.dial(lab.hosts.hostB.address, PORT, { timeoutMs: 5000 });
      if (answer.ok && answer.elapsedMs !== undefined) times[kind].push(answer.elapsedMs);
    }
    // the lab before the kernel-stamped, SCHED_FIFO delay line has no stats to give
    const stats = (lab as Partial<Lab>).delayLineStats;
    if (stats) delayLines.push(...(await stats()));
  } finally {
    await lab.destroy();
  }
}

for (let run = 0; run < runs; run++) {
  await measure('plain');
  await measure('delayed');
}
const heldMs = 2 * rttMs;
const round = (v: number) => Math.round(v * 100) / 100;
const summary = (values: number[]) => ({
  dials: values.length,
  medianMs: round(median(values)),
  p90Ms: round(percentile(values, 0.9)),
});
console.log(
  JSON.stringify({
    rttMs,
    heldMs,
    plain: summary(times.plain),
    delayed: summary(times.delayed),
    delayLineExcessMs: round(median(times.delayed) - heldMs - median(times.plain)),
    delayLines,
    loadavg: [round(loadBefore ?? 0), round(loadavg()[0] ?? 0)],
  }),
);
