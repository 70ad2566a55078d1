/**
 * The stream's data path between two processes without an agent: a loopback TCP connection wrapped in the
 * library's classes, `FramedConnection` + the plain stream (`FramedByteStream`, as with `streamResume: false`) or
 * + the resume protocol (`FramedResumePath` + `ResumableDuplex`, as by default), in fresh worker processes per
 * run, alternated, the same write size. Start-up is ~1 s instead of an agent pair's, so many runs fit, and what
 * differs between the modes is the resume protocol alone (window, ACKs, ledger).
 * Run: npx tsx bench/resume-2p.ts [--runs 7] [--mb 256] [--write 1048576] [--modes plain,resume]
 *      [--new-buffers] [--prof DIR]
 * A mode may carry its own window and ACK size: `resume:WINDOW:ACK` (bytes, e.g. resume:1073741824:268435456).
 * Each worker also transfers `--mb` once before the measured transfer (warm-up).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Socket, connect as tcpConnect } from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FramedByteStream } from '../src/connection/byte-stream.js';
import { FramedResumePath } from '../src/connection/framed-resume-path.js';
import { ResumableDuplex } from '../src/connection/resumable-duplex.js';
import { mayBeStunFrame } from '../src/framing/index.js';
import { shortTermKey } from '../src/stun/index.js';
import { FramedConnection } from '../src/transport/index.js';
import { loopbackListener, median } from './support.js';
import { type RunCounts, runCounts, startCounts } from './throughput-probe.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    mb: { type: 'string', default: '256' },
    write: { type: 'string', default: String(1024 * 1024) },
    modes: { type: 'string', default: 'plain,resume' },
    /** A new Buffer for every write (as a tunnel's socket reads give), not one reused: what the window retains. */
    'new-buffers': { type: 'boolean', default: false },
    prof: { type: 'string' },
    role: { type: 'string' },
  },
});
const total = Number(values.mb) * 1024 * 1024;
const KEY = shortTermKey('resume2ppasswordresume2p');

type ToWorker = { op: 'port'; port: number } | { op: 'go' };
type FromWorker =
  | { op: 'port'; port: number }
  | { op: 'ready' }
  | ({ op: 'done'; ns: string; cpu: number; csw: [number, number] } & RunCounts)
  | { op: 'started'; ns: string; cpu: number; csw: [number, number]; waits: [number, number] };

/** `plain`, `resume`, or `resume:WINDOW:ACK`. */
function streamOver(mode: string, socket: Socket): Duplex {
  const connection = new FramedConnection(socket);
  if (mode.startsWith('resume')) {
    const [, window, ack] = mode.split(':');
    const path = new FramedResumePath(connection, { localKey: KEY, remoteKey: KEY });
    return new ResumableDuplex(path, {
      ...(window ? { window: Number(window) } : {}),
      ...(ack ? { ackEveryBytes: Number(ack) } : {}),
    });
  }
  const stream = new FramedByteStream(connection);
  connection.on('bytes', (piece) => stream.deliver(piece));
  connection.streamFrames((first, length, chunk, offset) => !mayBeStunFrame(first, length, chunk, offset));
  connection.resume();
  return stream;
}

/** Voluntary and involuntary context switches since `start`. */
const switches = (start: NodeJS.ResourceUsage): [number, number] => {
  const now = process.resourceUsage();
  return [
    now.voluntaryContextSwitches - start.voluntaryContextSwitches,
    now.involuntaryContextSwitches - start.involuntaryContextSwitches,
  ];
};

const cpuSec = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

const reply = (m: FromWorker) => process.send?.(m);
// queued: a message that comes while the sender awaits a 'drain' must not be lost
const inbox: ToWorker[] = [];
let wake: (() => void) | undefined;
async function next(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return inbox.shift() as ToWorker;
}

/** The receiver listens, the sender dials (as the bench's ICE pair: active -> passive). */
async function connectWorker(role: string): Promise<Socket> {
  if (role === 'recv') {
    const { server, port, accepted } = await loopbackListener();
    reply({ op: 'port', port });
    const socket = await accepted;
    server.close();
    return socket;
  }
  const command = await next();
  if (command.op !== 'port') throw new Error('expected port');
  const socket = tcpConnect(command.port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

async function receive(stream: Duplex): Promise<void> {
  let received = 0;
  startCounts();
  const start = process.cpuUsage();
  const ru = process.resourceUsage();
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received < total) return;
      stream.off('data', onData);
      resolve();
    };
    stream.on('data', onData);
  });
  reply({ op: 'ready' });
  await done;
  const ns = process.hrtime.bigint().toString();
  reply({ op: 'done', ns, cpu: cpuSec(start), csw: switches(ru), ...runCounts() });
}

async function transmit(stream: Duplex): Promise<void> {
  if ((await next()).op !== 'go') throw new Error('expected go');
  const ns = process.hrtime.bigint().toString();
  const start = process.cpuUsage();
  const ru = process.resourceUsage();
  const size = Number(values.write);
  const chunk = Buffer.alloc(size, 0xa5);
  const ledger = stream instanceof ResumableDuplex ? stream.core.sendLedger : undefined;
  let windowWaits = 0;
  let waits = 0;
  const fresh = values['new-buffers'];
  for (let sent = 0; sent < total; sent += size) {
    if (stream.write(fresh ? Buffer.allocUnsafe(size) : chunk)) continue;
    waits++;
    if (ledger?.full) windowWaits++;
    await once(stream, 'drain');
  }
  // the sender's CPU until the receiver has everything: the driver asks after the receiver's 'done'
  await next();
  reply({ op: 'started', ns, cpu: cpuSec(start), csw: switches(ru), waits: [waits, windowWaits] });
}

async function worker(role: string, mode: string): Promise<void> {
  process.on('message', (m: ToWorker) => {
    inbox.push(m);
    wake?.();
  });
  const stream = streamOver(mode, await connectWorker(role));
  stream.on('error', (error) => {
    process.stderr.write(`worker ${role}: ${error.message}\n`);
    process.exit(1);
  });
  const transfer = () => (role === 'recv' ? receive(stream) : transmit(stream));
  await transfer(); // warm-up
  if (values.prof === undefined) {
    await transfer();
  } else {
    const profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    await transfer();
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(`${values.prof}/${mode.replaceAll(':', '_')}-${role}.cpuprofile`, JSON.stringify(profile));
  }
  process.exit(0);
}

/** One measured transfer: seconds, CPU seconds, the receiver's GCs, context switches, socket reads. */
interface Run {
  wall: number;
  cpuSend: number;
  cpuRecv: number;
  gc: number[];
  cswSend: [number, number];
  cswRecv: [number, number];
  reads: number;
  /** The sender's writes that returned false, and how many of them because the resume window was full. */
  waits: [number, number];
}

/** One measured transfer in a fresh pair of workers. */
async function run(mode: string): Promise<Run> {
  const env = { ...process.env, MALLOC_TOP_PAD_: `${64 << 20}`, MALLOC_TRIM_THRESHOLD_: `${1 << 30}` };
  const spawn = (role: string): ChildProcess =>
    fork(fileURLToPath(import.meta.url), ['--role', role, '--modes', mode, ...passArgs()], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
      env,
    });
  const recv = spawn('recv');
  const send = spawn('send');
  try {
    const messages = (child: ChildProcess) => {
      const queue: FromWorker[] = [];
      const waiters: Array<() => void> = [];
      child.on('message', (m: FromWorker) => {
        queue.push(m);
        for (const w of waiters.splice(0)) w();
      });
      return async (op: FromWorker['op']): Promise<FromWorker> => {
        for (;;) {
          const i = queue.findIndex((m) => m.op === op);
          if (i >= 0) return queue.splice(i, 1)[0] as FromWorker;
          await new Promise<void>((r) => waiters.push(r));
        }
      };
    };
    const fromRecv = messages(recv);
    const fromSend = messages(send);
    const port = (await fromRecv('port')) as { port: number };
    send.send({ op: 'port', port: port.port });
    let last: Run | undefined;
    for (let i = 0; i < 2; i++) {
      await fromRecv('ready');
      send.send({ op: 'go' });
      const done = (await fromRecv('done')) as Extract<FromWorker, { op: 'done' }>;
      send.send({ op: 'go' });
      const started = (await fromSend('started')) as Extract<FromWorker, { op: 'started' }>;
      last = {
        wall: Number(BigInt(done.ns) - BigInt(started.ns)) / 1e9,
        cpuSend: started.cpu,
        cpuRecv: done.cpu,
        gc: done.gc,
        cswSend: started.csw,
        cswRecv: done.csw,
        reads: done.reads,
        waits: started.waits,
      };
    }
    await Promise.all([once(recv, 'exit'), once(send, 'exit')]);
    return last as Run;
  } finally {
    recv.kill();
    send.kill();
  }
}

function passArgs(): string[] {
  const out = ['--mb', String(values.mb), '--write', String(values.write)];
  if (values['new-buffers']) out.push('--new-buffers');
  if (values.prof !== undefined) out.push('--prof', values.prof);
  return out;
}

if (values.role !== undefined) {
  await worker(values.role, values.modes);
} else {
  const modes = values.modes.split(',');
  const results = new Map<string, Awaited<ReturnType<typeof run>>[]>(modes.map((m) => [m, []]));
  const load: number[][] = [os.loadavg()];
  for (let i = 0; i < Number(values.runs); i++) {
    for (const mode of modes) results.get(mode)?.push(await run(mode));
  }
  load.push(os.loadavg());
  const gb = total / 1e9;
  const base = results.get(modes[0] as string) ?? [];
  const round = (v: number) => Number(v.toFixed(3));
  const out: Record<string, unknown> = { mb: Number(values.mb), write: Number(values.write), load };
  for (const [mode, rs] of results) {
    out[mode] = {
      MBps: Math.round(median(rs.map((r) => total / r.wall / 1e6))),
      overFirst: round(median(rs.map((r, i) => (base[i] as { wall: number }).wall / r.wall))),
      cpuSendPerGB: round(median(rs.map((r) => r.cpuSend / gb))),
      cpuRecvPerGB: round(median(rs.map((r) => r.cpuRecv / gb))),
      cpuBothPerGB: round(median(rs.map((r) => (r.cpuSend + r.cpuRecv) / gb))),
      cpuBothOverFirst: round(
        median(
          rs.map((r, i) => {
            const b = base[i] as { cpuSend: number; cpuRecv: number };
            return (r.cpuSend + r.cpuRecv) / (b.cpuSend + b.cpuRecv);
          }),
        ),
      ),
      cswSend: [0, 1].map((k) => median(rs.map((r) => r.cswSend[k] as number))),
      cswRecv: [0, 1].map((k) => median(rs.map((r) => r.cswRecv[k] as number))),
      sendWaits: [0, 1].map((k) => median(rs.map((r) => r.waits[k] as number))),
      recvReads: median(rs.map((r) => r.reads)),
      recvGc: [0, 1, 2].map((k) => median(rs.map((r) => r.gc[k] as number))),
      perRunMBps: rs.map((r) => Math.round(total / r.wall / 1e6)),
    };
  }
  console.log(JSON.stringify(out, null, 2));
}
