/**
 * Cost of the stream-resume protocol in memory: bytes through a ResumableStream pair (ledger, receive count,
 * ACKs encoded, signed and checked with the real codec) against the same chunks handed straight to a reader
 * over the same synchronous path. No sockets: this isolates our bookkeeping from TCP.
 * Run: npx tsx bench/resume-ledger.ts [--runs 5] [--ms 300]
 * Prints JSON: per chunk size, the median MB/s of both and their ratio (resume / plain), measured in one run.
 */
import { performance } from 'node:perf_hooks';
import { type PathHandlers, ResumableStream, type ResumePath } from '../src/connection/resumable.js';
import { decodeResumeFrame, encodeResumeControl, type ResumeControl } from '../src/connection/resume-wire.js';
import { shortTermKey } from '../src/stun/index.js';
import { median } from './support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const runs = option('runs', 5);
const msPerRun = option('ms', 300);
const KEY = shortTermKey('benchpasswordbenchpassword');

/** One end of a synchronous in-memory path: what one side sends is handled by the other at once. */
class DirectEnd implements ResumePath {
  handlers: PathHandlers | undefined;
  peer!: DirectEnd;
  open(handlers: PathHandlers): void {
    this.handlers = handlers;
  }
  sendData(chunk: Buffer): boolean {
    this.peer.handlers?.data(chunk);
    return true;
  }
  sendControl(control: ResumeControl): void {
    // the real wire cost: build, sign, fingerprint, then parse and verify
    const decoded = decodeResumeFrame(encodeResumeControl(control, KEY), KEY);
    if (decoded) this.peer.handlers?.control(decoded);
  }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

function pathPair(): [DirectEnd, DirectEnd] {
  const a = new DirectEnd();
  const b = new DirectEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

let sink = 0;

/** MB/s of plain passing: the path hands each chunk to a counting reader. */
function plain(chunk: Buffer): number {
  const [a, b] = pathPair();
  let received = 0;
  b.open({ data: (c) => (received += c.length), control() {}, end() {}, drain() {}, close() {}, fail() {} });
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < msPerRun) {
    for (let i = 0; i < 256; i++) a.sendData(chunk);
    elapsed = performance.now() - start;
  }
  sink += received;
  return received / 1e6 / (elapsed / 1000);
}

/** MB/s through the resume protocol: ledger on the sender, counting and ACKs on the receiver. */
function resumable(chunk: Buffer): number {
  const [a, b] = pathPair();
  let received = 0;
  const sender = new ResumableStream({ data: () => true, end() {} }, a);
  const receiver = new ResumableStream(
    {
      data: (c) => {
        received += c.length;
        return true;
      },
      end() {},
    },
    b,
  );
  let full = false;
  sender.on('drain', () => {
    full = false;
  });
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < msPerRun) {
    for (let i = 0; i < 256 && !full; i++) full = !sender.write(chunk);
    if (full) throw new Error('window filled: ACKs did not flow');
    elapsed = performance.now() - start;
  }
  sink += received + receiver.receiveLedger.received;
  sender.destroy();
  receiver.destroy();
  return received / 1e6 / (elapsed / 1000);
}

const results = [];
for (const size of [1024, 16 * 1024, 64 * 1024]) {
  const chunk = Buffer.alloc(size, 7);
  plain(chunk);
  resumable(chunk); // warm-up
  const plainRuns: number[] = [];
  const resumeRuns: number[] = [];
  for (let r = 0; r < runs; r++) {
    plainRuns.push(plain(chunk));
    resumeRuns.push(resumable(chunk));
  }
  const p = median(plainRuns);
  const q = median(resumeRuns);
  results.push({
    chunkBytes: size,
    plainMBps: Math.round(p),
    resumeMBps: Math.round(q),
    ratio: Number((q / p).toFixed(3)),
    // what the protocol adds to each chunk written, whatever the plain path costs
    addedNsPerChunk: Math.round((size / (q * 1e6) - size / (p * 1e6)) * 1e9),
  });
}
console.log(JSON.stringify({ bench: 'resume-ledger', runs, msPerRun, results, sink: sink > 0 }, null, 2));
