/**
 * Where the CPU time of bench/throughput-2p.ts's transfers goes, by CPU samples (not the wall-time samples of a V8
 * profile, which charge a descheduled thread's wait to whatever it was doing): runs the two-process bench under a
 * system-wide `perf record` (CLOCK_MONOTONIC, workers with --perf-basic-prof so JIT code has names), keeps each
 * worker's samples that fall inside its measured transfers (the bench writes their windows and pids; warm-ups
 * excluded), and reports CPU seconds per GB by category and side for every pair, the difference to the first pair
 * (the baseline), and the symbols that make the difference. Kernel work, GC helper threads and the JIT compiler
 * are counted, as `process.cpuUsage` counts them. Needs perf and root (or perf_event_paranoid <= 0).
 * Run: npx tsx bench/throughput-perf.ts [--freq 1999] [--out DIR] [--top 12] -- <throughput-2p.ts options>
 *  e.g. npx tsx bench/throughput-perf.ts -- --only stream64k,stream1m --pairs raw,ice --fresh --runs 5 --warmups 1
 *       --mb 128
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dash = process.argv.indexOf('--');
const own = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const passed = dash < 0 ? [] : process.argv.slice(dash + 1);
const { values } = parseArgs({
  args: own,
  options: {
    freq: { type: 'string', default: '1999' },
    out: { type: 'string' },
    top: { type: 'string', default: '12' },
  },
});
const freq = Number(values.freq);
const out = values.out ?? mkdtempSync(join(os.tmpdir(), 'ice-tcp-perf-'));
mkdirSync(out, { recursive: true });

interface Window {
  label: string;
  workload: string;
  writeSize: number;
  bytes: number;
  measured: boolean;
  sendPid: number;
  recvPid: number;
  startNs: string;
  endNs: string;
}

/** Where a sample's time goes; helper threads are told apart from the main (event-loop) thread. */
function category(sym: string, dso: string, main: boolean): string {
  if (dso.includes('kernel')) {
    if (/copy_(to|from)_iter|copy_user/.test(sym)) return 'kernel: copy to/from user memory';
    if (/clear_page|fault|set_pte/.test(sym)) return 'kernel: page faults';
    return 'kernel: TCP, syscalls, scheduler, irq';
  }
  if (sym.startsWith('JS:') || sym.startsWith('Builtins_')) return 'JavaScript (JIT code, builtins)';
  if (
    /Scaveng|MarkCompact|Marking|Sweeper|Evacuat|MemoryChunk|ArrayBufferSweeper|GlobalHandles|Heap::/.test(
      sym,
    )
  )
    return main ? 'GC, main thread' : 'GC, helper threads';
  if (/compiler::|[Mm]aglev|Turbofan|Pipeline/.test(sym)) return 'JIT compiler';
  if (/malloc|free|memmove|memset|memcpy|cfree/.test(sym)) return 'libc malloc/free/memcpy';
  return main ? 'other native (node, V8 runtime, libuv)' : 'other native, helper threads';
}

const scriptDir = fileURLToPath(new URL('.', import.meta.url));
const windowsFile = join(out, 'windows.json');
const data = join(out, 'perf.data');
const workerArgs = [process.env.BENCH_WORKER_ARGS ?? '', '--perf-basic-prof'].join(' ').trim();
process.stderr.write(`perf record into ${data}\n`);
const bench = spawnSync(
  'perf',
  [
    'record',
    '-a',
    '-q',
    '-k',
    'CLOCK_MONOTONIC',
    '-F',
    String(freq),
    '-o',
    data,
    '--',
    'npx',
    'tsx',
    join(scriptDir, 'throughput-2p.ts'),
    ...passed,
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_WORKER_ARGS: workerArgs, BENCH_PERF_WINDOWS: windowsFile },
  },
);
if (bench.status !== 0) {
  process.stderr.write(
    `perf record / the bench failed (status ${bench.status}): is perf installed, are we root?\n`,
  );
  process.exit(1);
}
const benchResult = JSON.parse(bench.stdout.toString()) as Record<string, unknown>;
const windows = (JSON.parse(readFileSync(windowsFile, 'utf8')) as Window[]).filter((w) => w.measured);
const byPid = new Map<number, Array<{ w: Window; role: 'send' | 'recv'; start: number; end: number }>>();
for (const w of windows) {
  const start = Number(BigInt(w.startNs)) / 1e9;
  const end = Number(BigInt(w.endNs)) / 1e9;
  for (const [pid, role] of [
    [w.sendPid, 'send'],
    [w.recvPid, 'recv'],
  ] as const) {
    const list = byPid.get(pid) ?? [];
    list.push({ w, role, start, end });
    byPid.set(pid, list);
  }
}

/** Samples per case ("stream1m ice"), side, category; and per symbol, for the differences. */
const cats = new Map<string, Map<string, number>>();
const syms = new Map<string, Map<string, number>>();
const bump = (m: Map<string, Map<string, number>>, key: string, sub: string) => {
  const inner = m.get(key) ?? new Map<string, number>();
  inner.set(sub, (inner.get(sub) ?? 0) + 1);
  m.set(key, inner);
};
const script = spawn('perf', ['script', '-i', data, '-F', 'pid,tid,time,ip,sym,dso'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const line = /^\s*(\d+)\/(\d+)\s+([\d.]+):\s+[0-9a-f]+\s+(.*?)\s+\((\S+)\)\s*$/;
for await (const text of createInterface({ input: script.stdout })) {
  const m = line.exec(text);
  if (!m) continue;
  const pid = Number(m[1]);
  const spans = byPid.get(pid);
  if (spans === undefined) continue;
  const time = Number(m[3]);
  const span = spans.find((s) => time >= s.start && time <= s.end);
  if (span === undefined) continue;
  const sym = (m[4] as string).replace(/\+0x[0-9a-f]+$/, '').replace(/:\d+:\d+$/, '');
  const key = `${caseName(span.w)} ${span.w.label} ${span.role}`;
  bump(cats, key, category(sym, m[5] as string, m[2] === m[1]));
  bump(syms, key, `${(m[5] as string).includes('kernel') ? 'k ' : ''}${sym}`);
}

/** The bench's own name of a stream case (`stream64k`, `stream1m`); other workloads by their name. */
function caseName(w: Window): string {
  if (w.workload !== 'stream') return w.workload;
  return `${w.workload}${w.writeSize >= 1 << 20 ? `${w.writeSize >> 20}m` : `${w.writeSize >> 10}k`}`;
}

/** Bytes of all measured runs per case and label: samples / freq / GB = CPU s per GB. */
const gb = new Map<string, number>();
for (const w of windows) {
  const key = `${caseName(w)} ${w.label}`;
  gb.set(key, (gb.get(key) ?? 0) + w.bytes / 1e9);
}
const perGb = (key: string, count: number) => Math.round((count / freq / (gb.get(key) ?? 1)) * 1000) / 1000;

const report: Record<string, Record<string, unknown>> = {};
const labelsOf = new Map<string, string[]>();
for (const w of windows) {
  const labels = labelsOf.get(caseName(w)) ?? [];
  if (!labels.includes(w.label)) labels.push(w.label);
  labelsOf.set(caseName(w), labels);
}
const top = Number(values.top);
for (const [name, labels] of labelsOf) {
  const base = labels[0] as string;
  const section: Record<string, unknown> = {};
  for (const label of labels) {
    const sides: Record<string, unknown> = {};
    for (const role of ['send', 'recv']) {
      const key = `${name} ${label} ${role}`;
      const mine = cats.get(key) ?? new Map<string, number>();
      const theirs = cats.get(`${name} ${base} ${role}`) ?? new Map<string, number>();
      const total = [...mine.values()].reduce((a, b) => a + b, 0);
      const byCat = Object.fromEntries(
        [...new Set([...mine.keys(), ...theirs.keys()])]
          .sort()
          .map((c) => [c, perGb(`${name} ${label}`, mine.get(c) ?? 0)]),
      );
      const heaviest = [...(syms.get(key) ?? new Map<string, number>())]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([s, c]) => [s.slice(0, 90), perGb(`${name} ${label}`, c)]);
      sides[role] = { total: perGb(`${name} ${label}`, total), ...byCat, top: Object.fromEntries(heaviest) };
      if (label !== base) sides[`${role}MoreThan_${base}`] = differences(name, label, base, role, top);
    }
    // process.cpuUsage's figures of the same runs (medians), to check the samples against
    const usage = (benchResult[name] as Record<string, { cpuSend?: number; cpuRecv?: number }> | undefined)?.[
      label
    ];
    section[label] = { cpuUsage: { send: usage?.cpuSend, recv: usage?.cpuRecv }, ...sides };
  }
  report[name] = section;
}

/** The symbols whose CPU per GB grew most over the baseline's (s/GB), for one side. */
function differences(
  name: string,
  label: string,
  base: string,
  role: string,
  n: number,
): Record<string, number> {
  const mine = syms.get(`${name} ${label} ${role}`) ?? new Map<string, number>();
  const theirs = syms.get(`${name} ${base} ${role}`) ?? new Map<string, number>();
  const delta = [...new Set([...mine.keys(), ...theirs.keys()])].map((s) => {
    const d = perGb(`${name} ${label}`, mine.get(s) ?? 0) - perGb(`${name} ${base}`, theirs.get(s) ?? 0);
    return [s.slice(0, 90), Math.round(d * 1000) / 1000] as const;
  });
  return Object.fromEntries(delta.sort((a, b) => b[1] - a[1]).slice(0, n));
}

/** A table on stderr: per case, CPU s per GB of both sides added, by category, one column per pair. */
function printTable(): void {
  for (const [name, labels] of labelsOf) {
    const both = (label: string, cat?: string) => {
      let sum = 0;
      for (const role of ['send', 'recv']) {
        const m = cats.get(`${name} ${label} ${role}`) ?? new Map<string, number>();
        sum += cat === undefined ? [...m.values()].reduce((a, b) => a + b, 0) : (m.get(cat) ?? 0);
      }
      return perGb(`${name} ${label}`, sum).toFixed(3).padStart(13);
    };
    const all = new Set<string>();
    for (const label of labels)
      for (const role of ['send', 'recv'])
        for (const c of cats.get(`${name} ${label} ${role}`)?.keys() ?? []) all.add(c);
    process.stderr.write(
      `\n${`${name}, CPU s/GB both sides`.padEnd(40)}${labels.map((l) => l.padStart(13)).join('')}\n`,
    );
    for (const c of [...all].sort())
      process.stderr.write(`${c.padEnd(40)}${labels.map((l) => both(l, c)).join('')}\n`);
    process.stderr.write(`${'total'.padEnd(40)}${labels.map((l) => both(l)).join('')}\n`);
  }
}
printTable();

// the JIT symbol maps the workers left behind (--perf-basic-prof writes /tmp/perf-PID.map) and perf.data (~15 MB):
// kept with --out, for a later `perf script -i DIR/perf.data`, removed otherwise
if (values.out === undefined) {
  for (const pid of byPid.keys()) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  rmSync(out, { recursive: true, force: true });
}
console.log(
  JSON.stringify(
    {
      command: `npx tsx bench/throughput-perf.ts -- ${passed.join(' ')}`,
      unit: 'CPU s per GB, from perf samples inside the measured transfers (warm-ups excluded)',
      freq,
      perfData: values.out === undefined ? null : data,
      loadAverage: benchResult.loadAverage,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
      ...report,
    },
    null,
    2,
  ),
);
