/**
 * One tunnelled stream's throughput against its receive window: two `Mux` ends (src/tunnel) over a loopback
 * TCP connection, through a userspace relay that holds each chunk RTT/2 each way (bench/support.ts
 * `DelayRelays`, no bandwidth limit: what is left is what the windows allow), one stream moving `--mb` MiB.
 * Modes, alternated run by run in one process: `fixed` (every window stays at its initial 256 KiB, the mux
 * before auto-tuning) and `auto` (windows grow, the defaults), with the RTT given to the mux as the tunnel
 * CLI gives it the selected pair's (at 0: no relay, and 0.5 ms, a loopback pair's check round trip). Reports
 * MB/s per mode and RTT (median of `--runs`), auto over fixed, and the window the receiving stream ended with.
 * Run: npx tsx bench/tunnel.ts [--runs 5] [--mb 64] [--rtts 0,20,100]
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Mux } from '../src/tunnel/mux.js';
import { INITIAL_WINDOW, type MuxStream } from '../src/tunnel/mux-stream.js';
import { DelayRelays, loopbackListener, median } from './support.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mb: { type: 'string', default: '64' },
    rtts: { type: 'string', default: '0,20,100' },
  },
});
const runs = Number(values.runs);
const bytes = Number(values.mb) * 1024 * 1024;
const rtts = values.rtts.split(',').map(Number);
const modes = ['fixed', 'auto'] as const;
/** What the tunnel CLI hands its mux at 0 RTT: the selected pair's check RTT on loopback, about this (ms). */
const LOOPBACK_CHECK_RTT_MS = 0.5;
type Mode = (typeof modes)[number];

/** A TCP connection from one end to the other through the delay relay: [client side, server side]. */
async function linkedSockets(relays: DelayRelays | undefined): Promise<[Socket, Socket]> {
  const { server, port: direct, accepted } = await loopbackListener();
  const port = relays ? await relays.to(direct) : direct;
  const client = connect({ host: '127.0.0.1', port, noDelay: true });
  await once(client, 'connect');
  const serverSide = await accepted;
  serverSide.setNoDelay(true);
  server.close();
  return [client, serverSide];
}

/** One stream of `bytes` from the client mux to the server mux: MB/s from first to last byte, final window. */
async function oneRun(rtt: number, mode: Mode): Promise<{ mbps: number; window: number }> {
  // at 0 the two ends connect directly (a relay's timers would add a millisecond per hop)
  const relays = rtt > 0 ? new DelayRelays(rtt / 2) : undefined;
  const [a, b] = await linkedSockets(relays);
  const options = {
    rttMs: () => (rtt > 0 ? rtt : LOOPBACK_CHECK_RTT_MS),
    ...(mode === 'fixed' ? { maxStreamWindow: INITIAL_WINDOW } : {}),
  };
  const client = new Mux(a, { initiator: true, ...options });
  const server = new Mux(b, { initiator: false, ...options });
  const accepted = new Promise<MuxStream>((resolve) => server.once('stream', resolve));
  const stream = client.open();
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      sent += chunk.length;
      if (!stream.write(chunk)) {
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
  const peer = await accepted;
  let got = 0;
  let first = 0;
  await new Promise<void>((resolve) => {
    peer.on('data', (d: Buffer) => {
      first ||= performance.now();
      got += d.length;
    });
    peer.on('end', resolve);
  });
  const seconds = (performance.now() - first) / 1000;
  const window = peer.receiveWindow;
  // the connection goes with the run: the streams' failure with it is expected
  stream.on('error', () => {});
  peer.on('error', () => {});
  a.destroy();
  b.destroy();
  relays?.close();
  return { mbps: got / 1e6 / seconds, window };
}

const result: Record<string, unknown> = { mb: Number(values.mb), runs };
for (const rtt of rtts) {
  const rates: Record<Mode, number[]> = { fixed: [], auto: [] };
  const windows: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 === 0 ? modes : [...modes].reverse()) {
      const r = await oneRun(rtt, mode);
      rates[mode].push(r.mbps);
      if (mode === 'auto') windows.push(r.window);
    }
    process.stderr.write(
      `rtt ${rtt} ms run ${i + 1}: fixed ${rates.fixed[i]?.toFixed(1)} MB/s, auto ${rates.auto[i]?.toFixed(1)} MB/s\n`,
    );
  }
  const ratios = rates.auto.map((r, i) => r / (rates.fixed[i] as number));
  result[`rtt${rtt}`] = {
    fixedMBps: Math.round(median(rates.fixed) * 10) / 10,
    autoMBps: Math.round(median(rates.auto) * 10) / 10,
    autoOverFixed: Math.round(median(ratios) * 100) / 100,
    autoWindowBytes: median(windows),
  };
}
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
