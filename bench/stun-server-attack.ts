/**
 * `ice-tcp stun-server` (its defaults) under connection floods, in its own process: how many legitimate
 * probes (connect from 127.0.0.1, one Binding request, answer within 5 s) are answered, and the server's RSS
 * and open fds before, during and after.
 *  - idle: `--idle` connections that send nothing, from `--sources` addresses 127.0.1.x-127.0.y.x; each one
 *    the server resets is reopened at once, so the flood keeps pushing for the whole phase.
 *  - drip: `--drippers` connections that each write one byte of a request every `--drip-ms` (default 2 s:
 *    the 20 s of the original report, sped up so that a phase fits in `--seconds`); reopened when reset.
 * Run (10,000 sockets need fds): bash -c 'ulimit -n 65536; npx tsx bench/stun-server-attack.ts'
 * Options: --seconds 20 --idle 10000 --drippers 1100 --drip-ms 2000 --probe-rate 20 --sources 64
 *          --server-root DIR (another checkout's src/cli.ts, e.g. the code before the fix)
 *          --server-flag --name=value (repeatable; passed to stun-server)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../src/stun/index.js';
import { median, percentile } from './support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function stringOption(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const seconds = option('seconds', 20);
const idleCount = option('idle', 10_000);
const dripperCount = option('drippers', 1100);
const dripMs = option('drip-ms', 2000);
const probeRate = option('probe-rate', 20);
const sources = option('sources', 64);
const serverRoot = stringOption('server-root') ?? fileURLToPath(new URL('..', import.meta.url));
const serverFlags = process.argv.flatMap((a, i) =>
  process.argv[i - 1] === '--server-flag' ? a.split('=') : [],
);

/** The attackers' source addresses: 127.0.1.1 upwards, all on loopback. */
function attackerAddress(i: number): string {
  const n = 256 + (i % sources) + 1;
  return `127.0.${n >> 8}.${n & 0xff}`;
}

interface ServerSample {
  rssMb: number;
  fds: number;
}

function sample(pid: number): ServerSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { rssMb: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli.ts',
      'stun-server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--json',
      ...serverFlags,
    ],
    { cwd: serverRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const info = JSON.parse(line) as { primary: { port: number } };
  return { child, port: info.primary.port };
}

/** One legitimate client: ms from connect to its answer, or undefined when reset or unanswered in 5 s. */
function probe(port: number): Promise<number | undefined> {
  const started = performance.now();
  const request = new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build({ fingerprint: true });
  return new Promise((resolve) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      localAddress: '127.0.0.1',
      autoSelectFamily: false,
    });
    let received = Buffer.alloc(0);
    const done = (result: number | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), 5000);
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 20 || received.length < 20 + received.readUInt16BE(2)) return;
      const answer = StunMessage.decode(received.subarray(0, 20 + received.readUInt16BE(2)));
      const ok =
        answer.cls === StunClass.SuccessResponse && answer.transactionId.equals(request.subarray(8, 20));
      done(ok ? performance.now() - started : undefined);
    });
  });
}

interface Flood {
  stop(): void;
  readonly opened: number;
}

/** Keeps `count` attacking connections open, reopening each one the server resets; `onOpen` may drip. */
function flood(port: number, count: number, onOpen: (socket: net.Socket) => void): Flood {
  let running = true;
  let opened = 0;
  const live = new Set<net.Socket>();
  const open = (i: number): void => {
    if (!running) return;
    opened++;
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      localAddress: attackerAddress(i),
      autoSelectFamily: false,
    });
    live.add(socket);
    socket.on('error', () => {});
    socket.on('connect', () => onOpen(socket));
    socket.on('close', () => {
      live.delete(socket);
      // a short pause: the attacker's own event loop must keep up, and the probes share it
      if (running) setTimeout(() => open(i), 10);
    });
  };
  // ramp up in slices so that the connects are not all in one tick
  let next = 0;
  const ramp = setInterval(() => {
    for (let k = 0; k < 500 && next < count; k++) open(next++);
    if (next >= count) clearInterval(ramp);
  }, 20);
  return {
    stop() {
      running = false;
      clearInterval(ramp);
      for (const s of live) s.destroy();
    },
    get opened() {
      return opened;
    },
  };
}

/** The attack in its own process, so that its event loop does not delay the probes being measured. */
async function startAttacker(kind: 'idle' | 'drip', port: number): Promise<{ stop(): Promise<number> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
      '--attacker',
      kind,
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  await once(lines, 'line'); // started
  return {
    async stop() {
      const report = once(lines, 'line') as Promise<[string]>;
      child.kill('SIGTERM');
      const [line] = await report;
      await once(child, 'exit');
      return (JSON.parse(line) as { opened: number }).opened;
    },
  };
}

/** Attacker process: runs one flood until SIGTERM, then prints how many connections it opened. */
async function attackerMain(kind: string, port: number): Promise<void> {
  const request = new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build({ fingerprint: true });
  const attack =
    kind === 'idle'
      ? flood(port, idleCount, () => {})
      : flood(port, dripperCount, (socket) => {
          let i = 0;
          const timer = setInterval(() => {
            if (socket.destroyed || i >= request.length) clearInterval(timer);
            else socket.write(request.subarray(i, ++i));
          }, dripMs);
          socket.once('close', () => clearInterval(timer));
        });
  console.log('{"started":true}');
  await once(process, 'SIGTERM');
  attack.stop();
  console.log(JSON.stringify({ opened: attack.opened }));
}

interface Phase {
  phase: string;
  probes: number;
  answered: number;
  answeredPct: number;
  latencyMsP50: number;
  latencyMsP99: number;
  attackConnections: number;
  serverRssMbMax: number;
  serverFdsMax: number;
}

async function runPhase(name: string, port: number, pid: number, attack?: 'idle' | 'drip'): Promise<Phase> {
  const flooding = attack ? await startAttacker(attack, port) : undefined;
  if (flooding) await sleep(2000); // let the flood fill the server first
  const results: Promise<number | undefined>[] = [];
  let rssMax = 0;
  let fdsMax = 0;
  const probes = setInterval(() => results.push(probe(port)), 1000 / probeRate);
  const sampler = setInterval(() => {
    const s = sample(pid);
    rssMax = Math.max(rssMax, s.rssMb);
    fdsMax = Math.max(fdsMax, s.fds);
  }, 500);
  await sleep(seconds * 1000);
  clearInterval(probes);
  const latencies = await Promise.all(results);
  clearInterval(sampler);
  const opened = (await flooding?.stop()) ?? 0;
  const ok = latencies.filter((l): l is number => l !== undefined);
  return {
    phase: name,
    probes: latencies.length,
    answered: ok.length,
    answeredPct: Math.round((1000 * ok.length) / latencies.length) / 10,
    latencyMsP50: Math.round(median(ok) * 10) / 10,
    latencyMsP99: Math.round(percentile(ok, 0.99) * 10) / 10,
    attackConnections: opened,
    serverRssMbMax: rssMax,
    serverFdsMax: fdsMax,
  };
}

async function main(): Promise<void> {
  const { child, port } = await startServer();
  const pid = child.pid as number;
  await sleep(500);
  const before = sample(pid);
  const phases: Phase[] = [];
  phases.push(await runPhase('baseline', port, pid));
  phases.push(await runPhase(`idle x${idleCount}`, port, pid, 'idle'));
  await sleep(2000);
  phases.push(await runPhase(`drip x${dripperCount} every ${dripMs} ms`, port, pid, 'drip'));
  // the attackers' sockets are gone; give the server time to see every close
  await sleep(3000);
  const after = sample(pid);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  const report = {
    bench: 'stun-server-attack',
    serverRoot,
    serverFlags,
    seconds,
    probeRate,
    sources,
    ulimitFds: Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/)?.[1]),
    serverBefore: before,
    serverAfter: after,
    serverExitCode: code,
    phases,
  };
  console.log(JSON.stringify(report));
  console.error(
    '\nphase                          answered      p50 ms  p99 ms  attack conns  RSS max MB  fds max',
  );
  for (const p of phases) {
    console.error(
      `${p.phase.padEnd(30)} ${`${p.answered}/${p.probes} (${p.answeredPct}%)`.padEnd(14)} ${String(p.latencyMsP50).padStart(6)}  ${String(p.latencyMsP99).padStart(6)}  ${String(p.attackConnections).padStart(12)}  ${String(p.serverRssMbMax).padStart(10)}  ${String(p.serverFdsMax).padStart(7)}`,
    );
  }
  console.error(`server before: ${JSON.stringify(before)}  after: ${JSON.stringify(after)}  exit ${code}`);
}

const attackerKind = stringOption('attacker');
(attackerKind ? attackerMain(attackerKind, option('port', 0)) : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
