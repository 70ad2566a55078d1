/**
 * Scale of a server: N sessions on one IceTcpMux port (`mux`) versus N agents with a port each (`ports`, the
 * design without a mux), in the same run. A server process holds N controlled passive agents, a client process
 * N controlling active agents on 127.0.0.1; signalling goes through this process over IPC. Reports time until
 * all connected, connect time p50/p99, the server's RSS, fds and CPU seconds per session (beyond its baseline,
 * after a hold with consent running), the slope of each per-session cost from the smallest N to the largest,
 * and the bad-input run: N sessions connecting over the mux while JUNK junk/idle connections hit the port.
 * Child processes get `ulimit -n` raised to 200000 (10,000 sessions with a port each need ~20,000 fds).
 *
 * Run: npx tsx bench/scale.ts [--n 100,1000,10000] [--modes mux,ports] [--junk 10000] [--junk-n 1000]
 *      [--hold-ms 3000] [--consent-ms 5000] [--concurrency 1000] [--timeout-ms 2500] [--lib src|dist] [--json]
 * SCALE_PROFILE=DIR writes each child's CPU profile there; SCALE_HEAP=DIR the server's heap snapshot while held;
 * SCALE_WHY=1 counts why sessions failed, per side (row `why`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Usage } from './scale-peer.js';
import { percentile } from './support.js';

const PEER = fileURLToPath(new URL('./scale-peer.ts', import.meta.url));
const JUNK = fileURLToPath(new URL('./scale-junk.ts', import.meta.url));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const sizes = option('n', '100,1000').split(',').map(Number);
const modes = option('modes', 'mux,ports').split(',') as Array<'mux' | 'ports'>;
const junk = Number(option('junk', '10000'));
const junkSessions = Number(option('junk-n', '1000'));
const holdMs = Number(option('hold-ms', '3000'));
const consentMs = option('consent-ms', '5000'); // the library's default (RFC 7675's 5 s)
const concurrency = Number(option('concurrency', '1000'));
const jsonOnly = process.argv.includes('--json');
/** The deadlines a loaded machine misses first: the client's checkTimeoutMs, the server's unauthenticatedTimeoutMs
 * and the mux's firstRequestTimeoutMs (their default is 2500). */
const timeoutMs = option('timeout-ms', '2500');
/** `--lib dist`: both peers run the built library (`npm run build` first), as a server would; `src` (default) via tsx. */
const libFrom = option('lib', 'src');

/** SCALE_PROFILE=DIR: each child writes a CPU profile there (summarise with bench/cpuprofile-top.ts). */
const profile = process.env.SCALE_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.SCALE_PROFILE] : [];

type Reply = Record<string, unknown> & { type: string };

/** A child with IPC whose fd limit is raised first (root may raise the hard limit; others get what they have). */
function child(script: string, args: string[]): ChildProcess & { next(type: string): Promise<Reply> } {
  const proc = spawn(
    'sh',
    [
      '-c',
      'ulimit -n 200000 2>/dev/null || ulimit -n $(ulimit -Hn); exec "$0" "$@"',
      process.execPath,
      ...profile,
      '--import',
      'tsx',
      script,
      ...args,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, SCALE_LIB: libFrom } },
  ) as ChildProcess & { next(type: string): Promise<Reply> };
  const queue: Reply[] = [];
  const waiters: Array<{ type: string; resolve: (r: Reply) => void }> = [];
  proc.on('message', (m: Reply) => {
    const w = waiters.findIndex((x) => x.type === m.type);
    if (w >= 0) waiters.splice(w, 1)[0]?.resolve(m);
    else queue.push(m);
  });
  proc.next = (type) => {
    const q = queue.findIndex((m) => m.type === type);
    if (q >= 0) return Promise.resolve(queue.splice(q, 1)[0] as Reply);
    return new Promise((resolve, reject) => {
      waiters.push({ type, resolve });
      proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before '${type}'`)));
    });
  };
  return proc;
}

interface Row {
  mode: string;
  n: number;
  junk: number;
  connected: number;
  failed: number;
  allConnectedMs: number;
  p50Ms: number;
  p99Ms: number;
  rssKBPerSession: number;
  heapKBPerSession: number;
  heapTotalKBPerSession: number;
  externalKBPerSession: number;
  /** RSS per session less the young generation's growth (a fixed cost of a busy process, not of a session). */
  rssLessNewSpaceKBPerSession: number;
  newSpaceMB: number;
  fdsPerSession: number;
  cpuMsPerSession: number;
  consentAnswered: number;
  reasons: unknown[];
  /** Failures by reason, per side (the pairs' reasons too with SCALE_WHY=1). */
  why: { client: unknown; server: unknown };
  /** Longest event-loop stall of the server / client process. */
  serverLagMs: number;
  clientLagMs: number;
  serverStates: unknown;
  junkReport?: Reply;
  mux?: unknown;
}

async function scenario(mode: 'mux' | 'ports', n: number, junkCount: number): Promise<Row> {
  const server = child(PEER, ['server', mode, consentMs, String(n), timeoutMs]);
  const client = child(PEER, ['client', mode, consentMs, String(n), timeoutMs]);
  try {
    const ready = await server.next('ready');
    await client.next('ready');
    const baseline = ready.baseline as Usage;
    server.send({ type: 'create' });
    const offers = (await server.next('created')).descriptions as string[][];
    client.send({ type: 'create', descriptions: offers });
    const answers = (await client.next('created')).descriptions as string[][];
    server.send({ type: 'answers', descriptions: answers });
    await server.next('applied');
    let junkReport: Promise<Reply> | undefined;
    let junkProc: ReturnType<typeof child> | undefined;
    if (junkCount > 0) {
      junkProc = child(JUNK, [String(ready.port), String(junkCount), '50', '2000']);
      await junkProc.next('ready');
      junkProc.send({ type: 'go' });
      junkReport = junkProc.next('done');
    }
    client.send({ type: 'go', concurrency });
    const done = await client.next('done');
    server.send({ type: 'settle' });
    const settled = await server.next('settled');
    await new Promise((r) => setTimeout(r, holdMs)); // held, consent running
    server.send({ type: 'measure' });
    const measured = await server.next('usage');
    const usage = measured.usage as Usage;
    const times = done.times as number[];
    const row: Row = {
      mode: junkCount > 0 ? `${mode}+junk` : mode,
      n,
      junk: junkCount,
      connected: Math.min(times.length, settled.connected as number),
      // a session is one failure whichever side saw it: the client's count, or the server's if larger
      failed: Math.max(done.failures as number, settled.failures as number),
      allConnectedMs: Math.round(done.totalMs as number),
      p50Ms: Math.round(percentile(times, 0.5)),
      p99Ms: Math.round(percentile(times, 0.99)),
      rssKBPerSession: round1((usage.rss - baseline.rss) / 1024 / n),
      heapKBPerSession: round1((usage.heapUsed - baseline.heapUsed) / 1024 / n),
      heapTotalKBPerSession: round1((usage.heapTotal - baseline.heapTotal) / 1024 / n),
      externalKBPerSession: round1((usage.external - baseline.external) / 1024 / n),
      rssLessNewSpaceKBPerSession: round1(
        (usage.rss - baseline.rss - (usage.newSpace - baseline.newSpace)) / 1024 / n,
      ),
      newSpaceMB: round1(usage.newSpace / 1024 / 1024),
      fdsPerSession: round1((usage.fds - baseline.fds) / n),
      cpuMsPerSession: round1(((usage.cpuSeconds - baseline.cpuSeconds) * 1000) / n),
      consentAnswered: measured.consentAnswered as number,
      mux: measured.mux,
      serverLagMs: measured.maxLagMs as number,
      clientLagMs: done.maxLagMs as number,
      serverStates: measured.states,
      reasons: [...(done.reasons as unknown[]), ...(settled.reasons as unknown[])],
      why: { client: done.why, server: settled.why },
    };
    if (junkReport) {
      row.junkReport = await junkReport;
      junkProc?.kill();
    }
    return row;
  } finally {
    server.send({ type: 'close' });
    client.send({ type: 'close' });
    await Promise.all([exited(server), exited(client)]);
  }
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    }),
  );
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Per-session cost at the largest N over the smallest: 1.0 is flat. */
function slopes(rows: Row[], mode: string) {
  const own = rows.filter((r) => r.mode === mode).sort((a, b) => a.n - b.n);
  const lo = own[0];
  const hi = own.at(-1);
  if (!lo || !hi || lo === hi) return undefined;
  const ratio = (k: 'rssKBPerSession' | 'fdsPerSession' | 'cpuMsPerSession') =>
    Math.round((hi[k] / lo[k]) * 100) / 100;
  return {
    mode,
    from: lo.n,
    to: hi.n,
    rss: ratio('rssKBPerSession'),
    fds: ratio('fdsPerSession'),
    cpu: ratio('cpuMsPerSession'),
  };
}

const rows: Row[] = [];
for (const n of sizes) for (const mode of modes) rows.push(await scenario(mode, n, 0));
if (junk > 0 && modes.includes('mux')) rows.push(await scenario('mux', junkSessions, junk));
const result = {
  date: new Date().toISOString(),
  load: (await import('node:os')).loadavg().map(round1),
  holdMs,
  consentIntervalMs: Number(consentMs),
  concurrency,
  lib: libFrom,
  rows,
  slopes: modes.map((m) => slopes(rows, m)).filter((s) => s !== undefined),
};
console.log(JSON.stringify(result));
if (!jsonOnly) {
  console.error('\nmode        N      connected  all (ms)  p50  p99   RSS KB/s  fds/s  CPU ms/s');
  for (const r of rows)
    console.error(
      `${r.mode.padEnd(10)} ${String(r.n).padStart(6)} ${`${r.connected}/${r.n}`.padStart(12)} ${String(r.allConnectedMs).padStart(9)} ${String(r.p50Ms).padStart(4)} ${String(r.p99Ms).padStart(5)} ${String(r.rssKBPerSession).padStart(9)} ${String(r.fdsPerSession).padStart(6)} ${String(r.cpuMsPerSession).padStart(8)}`,
    );
  for (const s of result.slopes)
    console.error(`slope ${s.mode} ${s.from}->${s.to}: rss x${s.rss}, fds x${s.fds}, cpu x${s.cpu}`);
}
