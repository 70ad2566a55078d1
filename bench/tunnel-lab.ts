/**
 * `ice-tcp tunnel` through the NAT lab with delay: a service behind one NAT, the client behind another
 * (test/tunnel/through-tunnel.ts), `--streams` parallel downloads of `--mb` MiB in all, in `--runs` fresh labs
 * at `--rtt` ms (the lab's userspace delay lines). Prints MB/s per run and the median. Another build of the CLI
 * runs with `CLI_FROM_DIST=1 CLI_ENTRY=/path/to/dist/cli.js` (test/support/line-peer.ts), for a before/after.
 * Needs root and what the lab needs (nft, ethtool, /usr/bin/python3 for the delay lines).
 * Run: sudo npx tsx bench/tunnel-lab.ts [--rtt 20] [--streams 1] [--mb 32] [--runs 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { downloadThroughTunnel, stopTunnelLab, type TunnelLab } from '../test/tunnel/through-tunnel.js';
import { median } from './support.js';

const { values } = parseArgs({
  options: {
    rtt: { type: 'string', default: '20' },
    streams: { type: 'string', default: '1' },
    mb: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
  },
});
const rttMs = Number(values.rtt);
const streams = Number(values.streams);
const total = Number(values.mb) * 1024 * 1024;

const rates: number[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  const run: TunnelLab = { peers: [] };
  try {
    const r = await downloadThroughTunnel(
      run,
      { a: { mapping: 'preserve' }, b: { mapping: 'preserve' }, rttMs },
      { withTurn: false, streams, total },
    );
    if (r.ok !== streams) throw new Error(`only ${r.ok} of ${streams} streams arrived whole`);
    rates.push(r.bytes / 1e6 / r.seconds);
    process.stderr.write(
      `run ${i + 1}: ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s (${r.seconds.toFixed(2)} s, ${r.local}/${r.remote})\n`,
    );
  } finally {
    await stopTunnelLab(run);
  }
}
process.stdout.write(
  `${JSON.stringify({
    rttMs,
    streams,
    mb: Number(values.mb),
    cli: process.env.CLI_ENTRY ?? (process.env.CLI_FROM_DIST ? 'dist/cli.js' : 'src/cli.ts'),
    perRunMBps: rates.map((r) => Math.round(r * 10) / 10),
    medianMBps: Math.round(median(rates) * 10) / 10,
    load: loadavg(),
  })}\n`,
);
