/**
 * What reading a few bytes of each freshly received socket buffer costs a receiver, between two processes on
 * loopback: raw Node TCP, 1 MiB writes, and a plain 'data' receiver that either only counts the bytes (as the raw
 * baseline of bench/throughput-2p.ts does) or also reads two bytes every 65537 (where an RFC 4571 deframer reads
 * each frame's header); `lines` reads a byte of every 64 (an application that reads its data), `lines+headers`
 * both. Each run in a fresh receiver process, modes alternated; receiver CPU s per GB by
 * `process.cpuUsage`, median of per-run ratios to `count`. The difference is small against this VM's noise, so
 * `--perf` counts it by CPU samples (the receivers run with --perf-basic-prof, so JIT code has names).
 * Run: npx tsx bench/throughput-touch.ts [--mb 256] [--runs 5] [--modes count,headers,lines,lines+headers] [--perf FILE]
 * `--perf FILE` (needs perf and root): records a system-wide profile meanwhile and reports the receivers' CPU
 * samples inside their transfers, all and JavaScript's, in s per GB.
 */
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './support.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'count,headers' },
    /** Record a system-wide perf profile into this file and count the receivers' samples inside their transfers. */
    perf: { type: 'string' },
    role: { type: 'string' },
  },
});
const FRAME = 65537;

if (values.role !== undefined) receive(values.role, Number(values.mb) * 2 ** 20);
else await drive();

/** What the receiver reads of a chunk that starts at stream offset `received`, per mode (summed, so kept). */
function look(mode: string, chunk: Buffer, received: number): number {
  let sum = 0;
  if (mode === 'lines' || mode === 'lines+headers') {
    // as an application that reads its data: a byte of every 64-byte cache line
    for (let at = 0; at < chunk.length; at += 64) sum += chunk[at] as number;
  }
  if (mode === 'headers' || mode === 'lines+headers') {
    // the positions of a 65535-byte frame's 2-byte header in the stream, wherever they fall in this read
    for (let at = (FRAME - (received % FRAME)) % FRAME; at + 1 < chunk.length; at += FRAME) {
      sum += ((chunk[at] as number) << 8) | (chunk[at + 1] as number);
    }
  }
  return sum;
}

/** The receiver process: listens, reads `total` bytes, reports its CPU per GB. */
function receive(mode: string, total: number): void {
  let received = 0;
  let sink = 0;
  let start = process.cpuUsage();
  let startNs = 0n;
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (received === 0) {
        start = process.cpuUsage();
        startNs = process.hrtime.bigint();
      }
      sink += look(mode, chunk, received);
      received += chunk.length;
      if (received < total) return;
      const cpu = process.cpuUsage(start);
      socket.destroy();
      server.close();
      const window = [String(startNs), String(process.hrtime.bigint())];
      process.send?.({ cpuPerGB: (cpu.user + cpu.system) / 1e6 / (total / 1e9), window, sink }, () =>
        process.exit(0),
      );
    });
  });
  server.on('error', () => process.exit(1));
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

async function drive(): Promise<void> {
  const modes = values.modes.split(',');
  const mb = Number(values.mb);
  const chunk = Buffer.alloc(2 ** 20, 0xa5);
  const perMode = new Map<string, number[]>(modes.map((m) => [m, []]));
  const script = fileURLToPath(import.meta.url);
  const windows: Window[] = [];
  const recorder =
    values.perf === undefined
      ? undefined
      : spawn('perf', ['record', '-a', '-q', '-k', 'CLOCK_MONOTONIC', '-F', '1999', '-o', values.perf], {
          stdio: 'ignore',
        });
  if (recorder) await new Promise((resolve) => setTimeout(resolve, 1000));
  for (let run = 0; run < Number(values.runs); run++) {
    for (const mode of modes) {
      const child = fork(script, ['--role', mode, '--mb', String(mb)], {
        // JIT code names for perf only: the flag leaves a /tmp/perf-PID.map behind
        execArgv: ['--import', 'tsx', ...(values.perf === undefined ? [] : ['--perf-basic-prof'])],
      });
      process.stderr.write(`run ${run + 1} ${mode}: receiver pid ${child.pid}\n`);
      const [ready] = (await once(child, 'message')) as [{ port: number }];
      const socket = connect(ready.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      const done = once(child, 'message') as Promise<[{ cpuPerGB: number; window: [string, string] }]>;
      for (let i = 0; i < mb; i++) if (!socket.write(chunk)) await once(socket, 'drain');
      const [{ cpuPerGB, window }] = await done;
      perMode.get(mode)?.push(cpuPerGB);
      windows.push({
        pid: child.pid ?? 0,
        mode,
        start: Number(BigInt(window[0])) / 1e9,
        end: Number(BigInt(window[1])) / 1e9,
      });
      socket.destroy();
      await once(child, 'exit');
    }
  }
  const out: Record<string, unknown> = { mb, runs: Number(values.runs), loadAverage: os.loadavg() };
  if (recorder) {
    recorder.kill('SIGINT');
    await once(recorder, 'exit');
    out.perfSamples = await samplesByMode(values.perf as string, windows, mb);
  }
  const base = perMode.get(modes[0] as string) ?? [];
  for (const [mode, cpu] of perMode) {
    out[mode] = {
      recvCpuPerGB: Math.round(median(cpu) * 1000) / 1000,
      overFirst: Math.round(median(cpu.map((c, i) => c / (base[i] ?? c))) * 1000) / 1000,
    };
  }
  console.log(JSON.stringify(out, null, 2));
}

interface Window {
  pid: number;
  mode: string;
  start: number;
  end: number;
}

/** CPU s per GB in the receivers' measured transfers, all samples and JavaScript's (JIT code and builtins). */
async function samplesByMode(file: string, windows: Window[], mb: number): Promise<Record<string, unknown>> {
  const script = spawn('perf', ['script', '-i', file, '-F', 'pid,time,ip,sym'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const counts = new Map<string, { all: number; js: number }>();
  const line = /^\s*(\d+)\s+([\d.]+):\s+[0-9a-f]+\s+(\S*)/;
  for await (const text of createInterface({ input: script.stdout })) {
    const m = line.exec(text);
    if (!m) continue;
    const pid = Number(m[1]);
    const time = Number(m[2]);
    const w = windows.find((x) => x.pid === pid && time >= x.start && time <= x.end);
    if (w === undefined) continue;
    const c = counts.get(w.mode) ?? { all: 0, js: 0 };
    c.all++;
    if (/^(JS:|Builtins_)/.test(m[3] as string)) c.js++;
    counts.set(w.mode, c);
  }
  for (const w of windows) rmSync(`/tmp/perf-${w.pid}.map`, { force: true });
  const gb = (mb * 2 ** 20 * Number(values.runs)) / 1e9;
  const perGb = (n: number) => Math.round((n / 1999 / gb) * 1000) / 1000;
  return Object.fromEntries(
    [...counts].map(([mode, c]) => [mode, { all: perGb(c.all), javascript: perGb(c.js) }]),
  );
}
