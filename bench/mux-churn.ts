/**
 * Sessions coming and going on one IceTcpMux (issue 11: "nothing leaks after 100,000 sessions came and went"):
 * rounds of N sessions in one process (a controlled passive agent on the mux, a controlling active client), each
 * connects, moves a packet and closes both agents. After every round, once the closes have run and after a full
 * GC: heap used, RSS, open fds, active handles and the mux's registered ufrags and held connections. A leak shows
 * as heap or fds growing with the sessions served; the figure is the growth from the first checkpoint (after the
 * JIT and the heap have warmed up) to the last, per session served in between.
 * Run: npx tsx bench/mux-churn.ts [--sessions 100000] [--per-round 1000] [--in-flight 200]
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IceTcpMux } from '../src/index.js';
import { connectAndPing, muxPair } from '../test/support/mux-pair.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const total = Number(option('sessions', '100000'));
const perRound = Number(option('per-round', '1000'));
const inFlight = Number(option('in-flight', '200'));

/** The bench is about what stays behind, not speed: deadlines a busy loop cannot miss. */
const PATIENT = { checkTimeoutMs: 30_000, unauthenticatedTimeoutMs: 30_000, connectTimeoutMs: 60_000 };

interface Checkpoint {
  sessions: number;
  heapUsedMB: number;
  rssMB: number;
  fds: number;
  handles: number;
  registered: number;
  pending: number;
}

function activeHandles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}

async function checkpoint(mux: IceTcpMux, sessions: number): Promise<Checkpoint> {
  // closes and resets finish on later turns of the loop
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
  gc();
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  return {
    sessions,
    heapUsedMB: mb(m.heapUsed),
    rssMB: mb(m.rss),
    fds: readdirSync('/proc/self/fd').length,
    handles: activeHandles(),
    registered: mux.registered,
    pending: mux.pending,
  };
}

let failures = 0;

async function session(mux: IceTcpMux): Promise<void> {
  const pair = muxPair({ ...PATIENT, mux });
  const { srv, cli } = pair;
  srv.on('error', () => undefined);
  cli.on('error', () => undefined);
  try {
    await connectAndPing(pair);
  } catch {
    failures++;
  } finally {
    cli.close();
    srv.close();
  }
}

async function round(mux: IceTcpMux): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, perRound) }, async () => {
      while (next < perRound) {
        next++;
        await session(mux);
      }
    }),
  );
}

const mux = new IceTcpMux({ host: '127.0.0.1', port: 0, firstRequestTimeoutMs: 30_000 });
await mux.listen();
const started = performance.now();
const checkpoints: Checkpoint[] = [await checkpoint(mux, 0)];
for (let served = 0; served < total; ) {
  await round(mux);
  served += perRound;
  const c = await checkpoint(mux, served);
  checkpoints.push(c);
  console.error(
    `${served} sessions: heap ${c.heapUsedMB} MB, rss ${c.rssMB} MB, fds ${c.fds}, handles ${c.handles}, registered ${c.registered}, pending ${c.pending}`,
  );
}
await mux.close();

// the first round warms the JIT and grows the heap's code and caches: growth is counted from after it
const first = checkpoints[1] ?? (checkpoints[0] as Checkpoint);
const last = checkpoints.at(-1) as Checkpoint;
const served = last.sessions - first.sessions;
const perSession = (mb: number) => (served > 0 ? Math.round(((mb * 2 ** 20) / served) * 100) / 100 : 0);
console.log(
  JSON.stringify(
    {
      bench: 'mux-churn',
      node: process.version,
      loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
      sessions: last.sessions,
      perRound,
      inFlight,
      failures,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      routed: mux.counters.routed,
      start: checkpoints[0],
      afterFirstRound: first,
      end: last,
      heapGrowthBytesPerSession: perSession(last.heapUsedMB - first.heapUsedMB),
      rssGrowthBytesPerSession: perSession(last.rssMB - first.rssMB),
      fdsLeft: last.fds - (checkpoints[0] as Checkpoint).fds,
      handlesLeft: last.handles - (checkpoints[0] as Checkpoint).handles,
      maxHeapUsedMB: Math.max(...checkpoints.map((c) => c.heapUsedMB)),
    },
    null,
    2,
  ),
);
