/**
 * Throughput between two processes on 127.0.0.1, the way a tunnel or a media application runs: sender and
 * receiver are separate workers (bench/throughput-worker.ts), each with its own event loop and CPU account.
 * Cases, each against its baseline in the same run, runs interleaved (baseline, ice, baseline, ice, ...):
 * - stream with 64 KiB and with 1 MiB application writes: `conn.stream()` vs a raw Node socket, and a raw
 *   socket writing ice-tcp's frame layout (a 2-byte header and a payload view per 65535 bytes, one writev),
 *   ICE with `streamResume: false`, and a raw socket read with `onread` into one reused buffer (the floor);
 * - 1200-byte packets: `conn.send()` + `'packet'` vs a raw socket with a hand-written 2-byte length prefix;
 * - with --relay: ICE through coturn (both sides forceRelay) vs a plain RFC 6062 client moving raw bytes
 *   through the same coturn (coturn's own limit, with either side dialling), and vs direct ICE.
 * CPU per GB is also given for both sides added: on loopback the kernel's TCP work lands in either process.
 * Reports medians of rates, of per-run ratios, and CPU seconds per GB (or per million packets) on each side.
 * Run: npx tsx bench/throughput-2p.ts [--runs 5] [--warmups 2] [--mb 256] [--packets 200000] [--relay]
 *      [--relay-mb 100] [--coturn-relay-threads N] [--only stream64k,stream1m,packets]
 *      [--pairs raw,ice,ice-noresume] [--prof DIR] [--trim] [--fresh] [--versus /path/to/other/checkout]
 * Every worker runs with glibc's trimming off (see `trim` below); `--trim` restores glibc's default, which made
 * the raw receiver pay page faults that ICE's did not and flattered ICE 1.5-2.9x (docs/BENCHMARKS.md).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TurnServerOptions } from '../src/turn/index.js';
import { startCoturn } from '../test/support/coturn.js';
import { median } from './support.js';
import type { Command, Report, Transport, Workload } from './throughput-worker.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    warmups: { type: 'string', default: '2' },
    mb: { type: 'string', default: '256' },
    packets: { type: 'string', default: '200000' },
    relay: { type: 'boolean', default: false },
    'relay-mb': { type: 'string', default: '100' },
    /**
     * coturn's `relay-threads` for --relay (default: coturn's own choice). With its default a relayed connection
     * ran at 6-27 or at 160-190 MB/s, decided per connection; with 1 every one ran at 159-193 (docs/BENCHMARKS.md).
     */
    'coturn-relay-threads': { type: 'string' },
    only: { type: 'string', default: 'stream64k,stream1m,packets,cli' },
    /**
     * By default glibc keeps freed memory instead of trimming it (MALLOC_TOP_PAD_, MALLOC_TRIM_THRESHOLD_ in
     * every worker): Node's read path allocates a fresh 64 KiB Buffer per read, and whether glibc hands the
     * pages back (to fault them in again on the next reads, costly on this VM) depends on what else sits at
     * the top of the heap, which differs between raw and ICE processes. So neither side pays for that luck;
     * `--trim` gives glibc's default back (the unfair comparison of the first figures).
     */
    trim: { type: 'boolean', default: false },
    /** Accepted for old command lines: it is the default now. */
    'no-trim': { type: 'boolean', default: false },
    /** Only these pairs of the stream/packet cases (default all; the first one given is the baseline). */
    pairs: { type: 'string' },
    /**
     * A fresh pair of worker processes for every run (each after its own warm-ups). A worker's garbage collector
     * settles early into a regime it keeps (seen: 0 or 52-60 mark-compacts per GB received, +-0.5 s/GB of
     * CPU, in raw and ICE workers alike): with one process pair per transport, that draw decides the ratio.
     */
    fresh: { type: 'boolean', default: false },
    /** Write a V8 CPU profile of every worker's transfers (not its start-up) into this directory. */
    prof: { type: 'string' },
    /**
     * Pin the workers' threads to CPUs (taskset): `split` puts the sender on CPU 0 and the receiver on CPU 1,
     * `same` both on CPU 0; default none (the scheduler places them, differently from one worker pair to the next).
     */
    pin: { type: 'string', default: 'none' },
    /** Also run ICE from this other checkout (e.g. the commit before a change), interleaved: a before/after. */
    versus: { type: 'string' },
  },
});
if (!['none', 'split', 'same'].includes(values.pin)) {
  console.error(`throughput-2p: --pin is none, split or same, got ${values.pin}`);
  process.exit(2);
}
const runs = Number(values.runs);
const warmups = Number(values.warmups);
const only = new Set(values.only.split(','));
const WORKER = fileURLToPath(new URL('./throughput-worker.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

// however the driver ends (a worker failing exits it), no worker may outlive it
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill();
});

/** One worker process, with a queue of its reports so that none is missed between awaits. */
class Worker {
  readonly child: ChildProcess;
  private readonly reports: Report[] = [];
  private readonly waiters: Array<() => void> = [];
  onReport: (report: Report) => boolean = () => false;

  constructor(name: string, src: string | undefined, cpu?: number) {
    const env = {
      ...process.env,
      ...(values.prof === undefined ? {} : { BENCH_PROFILE: `${values.prof}/${name}.cpuprofile` }),
      ...(src === undefined ? {} : { BENCH_ICE_TCP_SRC: src }),
      ...(!values.trim ? { MALLOC_TOP_PAD_: `${64 << 20}`, MALLOC_TRIM_THRESHOLD_: `${1 << 30}` } : {}),
    };
    // BENCH_WORKER_ARGS: extra Node flags for every worker (e.g. --trace-gc), split on spaces
    const extra = process.env.BENCH_WORKER_ARGS?.split(' ').filter(Boolean) ?? [];
    this.child = fork(WORKER, [], { execArgv: ['--import', 'tsx', ...extra], stdio: 'inherit', env });
    children.add(this.child);
    if (cpu !== undefined && this.child.pid !== undefined)
      execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(this.child.pid)], { stdio: 'ignore' });
    this.child.on('message', (report: Report) => {
      if (this.onReport(report)) return;
      this.reports.push(report);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on('exit', (code) => {
      if (code !== 0 && code !== null) {
        process.stderr.write(`worker exited with ${code}\n`);
        process.exit(1);
      }
    });
  }

  send(command: Command): void {
    this.child.send(command);
  }

  async next<T extends Report['op']>(op: T): Promise<Extract<Report, { op: T }>> {
    for (;;) {
      const index = this.reports.findIndex((r) => r.op === op);
      if (index >= 0) return this.reports.splice(index, 1)[0] as Extract<Report, { op: T }>;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

interface Timing {
  wall: number;
  cpuSend: number;
  /** Of which in the kernel (system time), each side. */
  sysSend: number;
  sysRecv: number;
  cpuRecv: number;
  /** Socket reads in the receiver during the run. */
  reads: number;
  /** Minor page faults in the receiver during the run. */
  faults: number;
  /** The receiver's garbage collections: scavenges, mark-compacts, milliseconds. */
  gc: [number, number, number];
}

interface PairOptions {
  turn?: TurnServerOptions;
  src?: string;
  label?: string;
}

/** A sender and a receiver worker, connected over `transport`. */
class Pair {
  readonly sender: Worker;
  readonly receiver: Worker;
  pair = '';

  private constructor(
    readonly transport: Transport,
    /** The library's source this pair runs (`src/index.ts` of another checkout for a before/after). */
    readonly src: string | undefined,
    readonly label: string,
  ) {
    const [sendCpu, recvCpu] = values.pin === 'split' ? [0, 1] : values.pin === 'same' ? [0, 0] : [];
    this.sender = new Worker(`${label}-send`, src, sendCpu);
    this.receiver = new Worker(`${label}-recv`, src, recvCpu);
  }

  /** How this pair was opened, for {@link reopen}. */
  private options: PairOptions = {};

  static async open(transport: Transport, options: PairOptions = {}): Promise<Pair> {
    const { turn, src } = options;
    const p = new Pair(transport, src, options.label ?? transport);
    p.options = options;
    const { sender, receiver } = p;
    // signalling and the listening address go straight across, as a signalling channel would carry them
    // (raw-onread's sender is the one that listens: only a dialling socket takes `onread`)
    sender.onReport = (r) => {
      if (r.op === 'signal') receiver.send(r);
      else if (r.op === 'listening') receiver.send({ op: 'peer', address: r.address, port: r.port });
      else return false;
      return true;
    };
    receiver.onReport = (r) => {
      if (r.op === 'signal') sender.send(r);
      else if (r.op === 'listening') sender.send({ op: 'peer', address: r.address, port: r.port });
      else return false;
      return true;
    };
    receiver.send({
      op: 'setup',
      transport,
      role: 'recv',
      turn: turn && { ...turn, username: 'bob', password: 'secret-b' },
    });
    sender.send({
      op: 'setup',
      transport,
      role: 'send',
      turn: turn && { ...turn, username: 'alice', password: 'secret-a' },
    });
    const [a] = await Promise.all([sender.next('connected'), receiver.next('connected')]);
    p.pair = a.pair;
    return p;
  }

  async run(workload: Workload, total: number, writeSize: number): Promise<Timing> {
    // raw-framed's receiver counts the frame headers too: it waits for every byte on the wire
    const frames = writeSize * Math.ceil(total / writeSize) === total ? Math.ceil(writeSize / 65535) : 0;
    const wire = this.transport.endsWith('-framed') ? total + 2 * frames * (total / writeSize) : total;
    this.receiver.send({ op: 'recv', workload, total: wire });
    await this.receiver.next('ready');
    this.sender.send({ op: 'send', workload, total, writeSize });
    const [sent, received] = await Promise.all([this.sender.next('sent'), this.receiver.next('received')]);
    this.sender.send({ op: 'cpu' });
    const { cpu, sys } = await this.sender.next('cpu');
    const wall = Number(BigInt(received.endNs) - BigInt(sent.startNs)) / 1e9;
    perfWindows.push({
      label: this.label,
      workload,
      writeSize,
      bytes: total,
      measured: measuring,
      sendPid: this.sender.child.pid ?? 0,
      recvPid: this.receiver.child.pid ?? 0,
      startNs: sent.startNs,
      endNs: received.endNs,
    });
    return {
      wall,
      cpuSend: cpu,
      cpuRecv: received.cpu,
      sysSend: sys,
      sysRecv: received.sys,
      reads: received.reads,
      faults: received.faults,
      gc: received.gc,
    };
  }

  /** The same pair in two new worker processes (this one closed). */
  async reopen(): Promise<Pair> {
    await this.close();
    return Pair.open(this.transport, this.options);
  }

  async close(): Promise<void> {
    // both first learn that the end is coming: whichever closes first resets the other, which must not count
    // that as a failure (it did when the receiver's 'exit' arrived after the sender's reset)
    this.sender.send({ op: 'quiesce' });
    this.receiver.send({ op: 'quiesce' });
    await Promise.all([this.sender.next('quiet'), this.receiver.next('quiet')]);
    this.sender.send({ op: 'exit' });
    this.receiver.send({ op: 'exit' });
    await Promise.all([once(this.sender.child, 'exit'), once(this.receiver.child, 'exit')]);
  }
}

/**
 * Every run's transfer window (CLOCK_MONOTONIC ns, as `process.hrtime` and `perf record -k CLOCK_MONOTONIC` count)
 * with its worker pids, written to BENCH_PERF_WINDOWS at the end: bench/throughput-perf.ts attributes a system-wide
 * perf profile's samples to the transfers with it (warm-ups flagged `measured: false`).
 */
const perfWindows: Array<Record<string, unknown>> = [];
/** True while compare() runs measured runs (not warm-ups). */
let measuring = false;

const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Runs the pairs in turn, `runs` times after `warmups` (the order rotates, so none always runs first); per pair
 * the median rate and CPU per unit on each side, and the median of its per-run ratio to `pairs[0]` (the
 * baseline) by wall time: the goals are judged on that ratio, CPU per unit is the steadier witness.
 */
async function compare(
  name: string,
  workload: Workload,
  total: number,
  writeSize: number,
  cpuUnit: number,
  pairs: Pair[],
  /** Also the per-run ratio to this pair (a second baseline). */
  alsoOver?: Pair,
): Promise<Record<string, unknown>> {
  const warm = async () => {
    for (let i = 0; i < warmups; i++) for (const pair of pairs) await pair.run(workload, total, writeSize);
  };
  await warm();
  const alsoIndex = alsoOver === undefined ? -1 : pairs.indexOf(alsoOver);
  const timings = pairs.map((): Timing[] => []);
  for (let i = 0; i < runs; i++) {
    if (values.fresh && i > 0) {
      // in place: the caller closes whatever `pairs` holds at the end
      for (let k = 0; k < pairs.length; k++) pairs[k] = await (pairs[k] as Pair).reopen();
      await warm();
    }
    measuring = true;
    for (let k = 0; k < pairs.length; k++) {
      const index = (i + k) % pairs.length;
      (timings[index] as Timing[]).push(await (pairs[index] as Pair).run(workload, total, writeSize));
    }
    const line = pairs.map(
      (p, k) => `${p.label} ${(total / (timings[k] as Timing[])[i]!.wall / 1e6).toFixed(2)}M/s`,
    );
    process.stderr.write(`${name} run ${i + 1}: ${line.join(', ')}\n`);
    measuring = false;
  }
  const base = timings[0] as Timing[];
  const ratiosTo = (k: number, ts: Timing[]) => ts.map((t, i) => (timings[k] as Timing[])[i]!.wall / t.wall);
  const out: Record<string, unknown> = {};
  pairs.forEach((pair, k) => {
    const ts = timings[k] as Timing[];
    const ratios = ts.map((t, i) => (base[i] as Timing).wall / t.wall);
    const cpuSend = median(ts.map((t) => (t.cpuSend * cpuUnit) / total));
    const cpuRecv = median(ts.map((t) => (t.cpuRecv * cpuUnit) / total));
    const baseSend = median(base.map((t) => (t.cpuSend * cpuUnit) / total));
    const baseRecv = median(base.map((t) => (t.cpuRecv * cpuUnit) / total));
    const both = (t: Timing) => ((t.cpuSend + t.cpuRecv) * cpuUnit) / total;
    const cpuBoth = median(ts.map(both));
    const baseBoth = median(base.map(both));
    out[pair.label] = {
      pair: pair.pair,
      perSec: Math.round(median(ts.map((t) => total / t.wall))),
      cpuSend: round(cpuSend),
      cpuRecv: round(cpuRecv),
      // on loopback the kernel's TCP work runs in whichever process's context triggers it (a read that opens
      // the window transmits the sender's queued data), so the split between the sides moves with who waits
      // for whom: the sum is the figure to compare
      cpuBoth: round(cpuBoth),
      sysShare: {
        send: round(median(ts.map((t) => t.sysSend / t.cpuSend))),
        recv: round(median(ts.map((t) => t.sysRecv / t.cpuRecv))),
      },
      ...(workload === 'stream'
        ? { recvBytesPerRead: Math.round(median(ts.map((t) => total / Math.max(1, t.reads)))) }
        : {}),
      recvFaultsPerMB: round(median(ts.map((t) => (t.faults * 1e6) / total)), 1),
      recvGcPerGB: [0, 1, 2].map((i) => round(median(ts.map((t) => (t.gc[i] as number) * (1e9 / total))), 1)),
      ...(k === 0
        ? {}
        : {
            [`over_${(pairs[0] as Pair).label}`]: round(median(ratios)),
            perRun: ratios.map((r) => round(r)),
            cpuOverBaseline: {
              send: round(cpuSend / baseSend),
              recv: round(cpuRecv / baseRecv),
              both: round(cpuBoth / baseBoth),
            },
            ...(alsoIndex < 0 || alsoIndex === k
              ? {}
              : {
                  [`over_${(pairs[alsoIndex] as Pair).label}`]: round(median(ratiosTo(alsoIndex, ts))),
                }),
          }),
    };
  });
  return out;
}

const GB = 1e9;
const result: Record<string, unknown> = {
  node: process.version,
  runs,
  warmups,
  noTrim: !values.trim,
  fresh: values.fresh,
  loadAverage: os.loadavg().map((l) => round(l, 2)),
};
const streamBytes = Number(values.mb) * 1024 * 1024;

/**
 * Raw TCP first (the baseline: a plain 'data' receiver, as ICE's own socket reads), then ICE, then (stream
 * cases) raw TCP writing ICE's frame layout (what the layout costs without the library), ICE with
 * `streamResume: false` (what the resume protocol costs), raw TCP read with `onread` into one reused buffer
 * (the floor of Node's receive path), then ICE from the --versus checkout.
 */
async function openDirect(stream: boolean): Promise<Pair[]> {
  const names: string[] = ['raw', 'ice'];
  if (stream) names.push('raw-framed', 'ice-noresume', 'raw-onread');
  if (values.versus !== undefined) names.push('ice-versus');
  const wanted = values.pairs?.split(',') ?? names;
  const pairs: Pair[] = [];
  for (const name of wanted.filter((n) => names.includes(n))) {
    pairs.push(
      name === 'ice-versus'
        ? await Pair.open('ice', { src: values.versus, label: 'ice-versus' })
        : await Pair.open(name as Transport),
    );
  }
  if (pairs.length < 2) throw new Error(`--pairs: need two of ${names.join(',')}`);
  return pairs;
}

if (only.has('stream64k') || only.has('stream1m')) {
  const pairs = await openDirect(true);
  for (const [key, size] of [
    ['stream64k', 64 * 1024],
    ['stream1m', 1024 * 1024],
  ] as const) {
    if (!only.has(key)) continue;
    result[key] = {
      bytesPerRun: streamBytes,
      writeSize: size,
      unit: 'bytes/s; cpu s/GB',
      ...(await compare(key, 'stream', streamBytes, size, GB, pairs)),
    };
  }
  await Promise.all(pairs.map((p) => p.close()));
}

if (only.has('packets')) {
  const count = Number(values.packets);
  const pairs = await openDirect(false);
  result.packets = {
    packetsPerRun: count,
    packetSize: 1200,
    unit: 'packets/s; cpu s per million packets',
    ...(await compare('packets', 'packets', count, 1200, 1e6, pairs)),
  };
  await Promise.all(pairs.map((p) => p.close()));
}

/**
 * `ice-tcp connect --send-bytes N` into `--expect-bytes N` (two CLI processes, lines exchanged as a user would
 * paste them): the receiver's reported rate, and the bytes/s of the library between two workers with the same
 * write size in the same run. Each CLI run is a new pair of processes; its rate counts the transfer only.
 */
async function cliRun(bytes: number): Promise<number> {
  const peer = (role: string, flag: string) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'connect', `--${role}`, '--bind', '127.0.0.1', flag, `${bytes}`],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
  const sender = peer('controlling', '--send-bytes');
  const receiver = peer('controlled', '--expect-bytes');
  const lines = (child: ChildProcess) => createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ourLines = async (child: ChildProcess): Promise<string[]> => {
    const got: string[] = [];
    for await (const line of lines(child)) {
      if (line === '') break;
      got.push(line);
    }
    return got;
  };
  const [a, b] = await Promise.all([ourLines(sender), ourLines(receiver)]);
  sender.stdin?.write(`${b.join('\n')}\n\n`);
  receiver.stdin?.write(`${a.join('\n')}\n\n`);
  for await (const line of lines(receiver)) {
    const event = JSON.parse(line) as { event: string; megabytesPerSecond?: number; message?: string };
    if (event.event === 'error') throw new Error(`cli: ${event.message}`);
    if (event.event === 'done') {
      await Promise.all([once(sender, 'exit'), once(receiver, 'exit')]);
      return (event.megabytesPerSecond ?? 0) * 1e6;
    }
  }
  throw new Error('cli receiver ended without a done line');
}

/**
 * The CLI against the library with the same write size, interleaved: the library both on a warmed pair (as the
 * other cases) and on a fresh pair of processes per run, as each CLI run is (cold JIT, a new connection whose
 * buffers have not grown yet): the CLI's own cost is its rate over the fresh library's.
 */
async function freshLibraryRun(bytes: number, writeSize: number): Promise<number> {
  const pair = await Pair.open('ice', { label: 'ice-fresh' });
  try {
    return bytes / (await pair.run('stream', bytes, writeSize)).wall;
  } finally {
    await pair.close();
  }
}

if (only.has('cli')) {
  const bytes = streamBytes;
  const writeSize = 15 * 65535;
  const ice = await Pair.open('ice');
  for (let i = 0; i < warmups; i++) await ice.run('stream', bytes, writeSize);
  const cliRates: number[] = [];
  const libRates: number[] = [];
  const freshRates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const steps = [
      async () => libRates.push(bytes / (await ice.run('stream', bytes, writeSize)).wall),
      async () => cliRates.push(await cliRun(bytes)),
      async () => freshRates.push(await freshLibraryRun(bytes, writeSize)),
    ];
    for (let k = 0; k < steps.length; k++) await (steps[(i + k) % steps.length] as () => Promise<number>)();
    const mbs = (rates: number[]) => ((rates[i] as number) / 1e6).toFixed(1);
    process.stderr.write(
      `cli run ${i + 1}: cli ${mbs(cliRates)} MB/s, library fresh ${mbs(freshRates)} MB/s, warm ${mbs(libRates)} MB/s\n`,
    );
  }
  const ratios = (over: number[]) => cliRates.map((c, i) => c / (over[i] as number));
  result.cli = {
    bytesPerRun: bytes,
    writeSize,
    unit: 'bytes/s, as the receiving CLI reports it',
    cli: Math.round(median(cliRates)),
    libraryFresh: Math.round(median(freshRates)),
    libraryWarm: Math.round(median(libRates)),
    cliOverLibraryFresh: round(median(ratios(freshRates))),
    cliOverLibraryWarm: round(median(ratios(libRates))),
    perRunOverFresh: ratios(freshRates).map((r) => round(r)),
  };
  await ice.close();
}

if (values.relay) {
  const threads = values['coturn-relay-threads'];
  const coturn = await startCoturn({
    users: { alice: 'secret-a', bob: 'secret-b' },
    extra: threads === undefined ? [] : [`relay-threads=${Number(threads)}`],
  });
  try {
    const turn = { host: coturn.host, port: coturn.port, username: '', password: '' };
    const bytes = Number(values['relay-mb']) * 1e6;
    // coturn's own limit: the same two trips through coturn with raw bytes, no ICE, no framing, the receiver
    // dialling as in the pair ICE nominates here (relay passive -> prflx active), and the sender dialling
    const pairs = [
      await Pair.open('turn-raw-rev', { turn }),
      await Pair.open('ice-relay', { turn }),
      await Pair.open('turn-raw', { turn }),
      await Pair.open('ice'),
      // the plain client writing ice-tcp's frame layout: what the layout does to coturn
      await Pair.open('turn-raw-framed', { turn }),
    ];
    result.relay = {
      bytesPerRun: bytes,
      writeSize: 65536,
      unit: 'bytes/s; cpu s/GB',
      ...(await compare('relay', 'stream', bytes, 65536, GB, pairs, pairs[2])),
    };
    await Promise.all(pairs.map((p) => p.close()));
  } finally {
    await coturn.stop();
  }
}

result.loadAverageAtEnd = os.loadavg().map((l) => round(l, 2));
if (process.env.BENCH_PERF_WINDOWS)
  writeFileSync(process.env.BENCH_PERF_WINDOWS, JSON.stringify(perfWindows));
console.log(JSON.stringify(result, null, 2));
process.exit(0);
