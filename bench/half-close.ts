/**
 * Both sides end() during a bidirectional stream transfer between two IceAgents on 127.0.0.1 (issue 8 item 5:
 * this hung at 256 MiB and 1 GiB before half-close was fixed). Per run: each side writes N bytes, calls end()
 * when its last write was accepted, and reads until the peer's end; the run passes when both sides got
 * exactly N bytes and both connections closed within the deadline. Prints one JSON line.
 * Run: npx tsx bench/half-close.ts [--runs 3] [--mb 1024] [--deadline-s 120]
 */
import type { Duplex } from 'node:stream';
import { IceAgent, type IceConnection } from '../src/index.js';
import { attachSignaller } from '../src/signalling/attach.js';
import { createInMemorySignallerPair } from '../src/signalling/in-memory.js';
import { countUntilEnd } from '../test/connection/helpers.js';
import { median } from './support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

const runs = option('runs', 3);
const bytes = option('mb', 1024) * 1024 * 1024;
const deadlineMs = option('deadline-s', 120) * 1000;
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

async function connectedPair(): Promise<{ a: IceConnection; b: IceConnection; close(): void }> {
  const alice = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlling' });
  const bob = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlled' });
  const [sa, sb] = createInMemorySignallerPair();
  attachSignaller(alice, sa);
  attachSignaller(bob, sb);
  const [a, b] = await Promise.all([alice.connect(), bob.connect()]);
  return {
    a,
    b,
    close() {
      alice.close();
      bob.close();
    },
  };
}

async function writeAndEnd(stream: Duplex, n: number): Promise<void> {
  for (let sent = 0; sent < n; sent += CHUNK.length) {
    const piece = n - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, n - sent);
    if (!stream.write(piece)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
}

async function run(): Promise<{ ok: boolean; seconds: number; detail: string }> {
  const { a, b, close } = await connectedPair();
  const sa = a.stream();
  const sb = b.stream();
  const started = performance.now();
  const closed = (c: IceConnection) => new Promise<void>((resolve) => c.once('close', () => resolve()));
  // listen for 'close' from the start: it may fire before the reads' promises settle
  const bothClosed = Promise.all([closed(a), closed(b)]);
  const work = Promise.all([
    countUntilEnd(sa),
    countUntilEnd(sb),
    writeAndEnd(sa, bytes),
    writeAndEnd(sb, bytes),
  ])
    .then(async ([atA, atB]) => {
      await bothClosed;
      return `A got ${atA}, B got ${atB}`;
    })
    .catch((error: Error) => `error: ${error.message}`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('hung'), deadlineMs);
  });
  const detail = await Promise.race([work, deadline]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  close();
  a.reset();
  b.reset();
  return { ok: detail === `A got ${bytes}, B got ${bytes}`, seconds, detail };
}

const results = [];
for (let i = 0; i < runs; i++) results.push(await run());
const passed = results.filter((r) => r.ok);
console.log(
  JSON.stringify({
    bench: 'half-close',
    bytesEachWay: bytes,
    runs,
    passed: passed.length,
    medianSeconds: passed.length > 0 ? Math.round(median(passed.map((r) => r.seconds)) * 100) / 100 : null,
    failures: results.filter((r) => !r.ok).map((r) => r.detail),
  }),
);
process.exit(passed.length === runs ? 0 : 1);
