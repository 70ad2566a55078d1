/**
 * Where a NAT-lab cell's time to connected goes, read off the wire: runs the cell (test/nat/cells.ts) on `runs`
 * fresh labs with tcpdump in hostA's namespace, takes the connection that carried the transfer (the selected
 * pair's), decodes its RFC 4571 frames as STUN and prints, per run and as medians, in ms: `handshake` (hostA's or
 * the first SYN to the handshake's last SYN segment), `toCheck` (hostA's own time from there to its Binding
 * request), `check` (that request's round trip: the path plus hostB's own time), `toNominate` (hostA's time from
 * the answer to its USE-CANDIDATE request: Ta pacing, RFC 8445 §6.1.4.2, and the process itself), `nominate`
 * (its round trip) and `total` (first SYN to the nomination's answer), next to hostA's CLI's own `connectedMs`
 * (from the peer's lines). With `--rtt`, three round trips are the floor of `total` (RFC 6544 §8: regular
 * nomination). Needs root, tcpdump and what the matrix needs.
 * Run: sudo npx tsx bench/lab-trace.ts [--cell 'public <-> public'] [--rtt 20] [--runs 5]
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MATRIX_CELLS } from '../test/nat/cells.js';
import { runCell } from '../test/nat/run-cell.js';
import type { Lab } from '../test/support/lab.js';
import { spawnIn } from '../test/support/netns.js';
import { median } from './support.js';

const { values } = parseArgs({
  options: {
    cell: { type: 'string', default: 'public <-> public' },
    rtt: { type: 'string', default: '20' },
    runs: { type: 'string', default: '5' },
    /** Analyse this capture instead of running the cell (with `--self`, hostA's address in it). */
    pcap: { type: 'string' },
    self: { type: 'string' },
  },
});
const cell =
  MATRIX_CELLS.find((c) => c.name === values.cell) ?? MATRIX_CELLS.find((c) => c.name.includes(values.cell));
if (!cell) throw new Error(`no cell named ${values.cell}`);
const rttMs = Number(values.rtt);
const runs = Number(values.runs);

/** One TCP segment as captured in hostA's namespace. */
interface Segment {
  t: number;
  out: boolean;
  key: string;
  seq: number;
  syn: boolean;
  payload: Buffer;
}

/** A STUN message seen on the connection: when the segment that completed it was captured. */
interface StunSeen {
  t: number;
  out: boolean;
  request: boolean;
  tid: string;
  useCandidate: boolean;
}

const USE_CANDIDATE = 0x0025;
const MAGIC = 0x2112a442;

/** Starts tcpdump in hostA's namespace; resolves with its stop function once it listens. */
async function capture(lab: Lab, file: string): Promise<() => Promise<void>> {
  // --immediate-mode: without it a short capture's packets still sit in the ring buffer when SIGINT ends tcpdump
  const dump: ChildProcess = spawnIn(
    lab.hosts.hostA.namespace,
    'tcpdump',
    ['-i', 'any', '-n', '--immediate-mode', '-U', '-w', file, 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    dump.stderr?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    dump.once('exit', (code) => reject(new Error(`tcpdump exited (${code})`)));
  });
  return async () => {
    dump.kill('SIGINT');
    if (dump.exitCode === null) await once(dump, 'exit');
  };
}

/** Every TCP segment of the capture (tcpdump -x prints each packet from its IP header). */
function segments(file: string, self: string): Segment[] {
  const text = execFileSync('tcpdump', ['-r', file, '-n', '-tt', '-x'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  });
  const out: Segment[] = [];
  let t = 0;
  let hex: string[] = [];
  const flush = () => {
    const ip = Buffer.from(hex.join(''), 'hex');
    hex = [];
    if (ip.length < 40 || ip.readUInt8(0) >> 4 !== 4 || ip.readUInt8(9) !== 6) return;
    const ipHeader = (ip.readUInt8(0) & 0xf) * 4;
    const tcp = ip.subarray(ipHeader);
    const src = `${ip.subarray(12, 16).join('.')}:${tcp.readUInt16BE(0)}`;
    const dst = `${ip.subarray(16, 20).join('.')}:${tcp.readUInt16BE(2)}`;
    out.push({
      t,
      out: src.startsWith(`${self}:`),
      key: [src, dst].sort().join(' '),
      seq: tcp.readUInt32BE(4),
      syn: (tcp.readUInt8(13) & 0x02) !== 0,
      payload: tcp.subarray((tcp.readUInt8(12) >> 4) * 4, ip.readUInt16BE(2) - ipHeader),
    });
  };
  for (const line of text.split('\n')) {
    const data = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (data) hex.push((data[1] ?? '').replaceAll(' ', ''));
    else if (/^\d+\.\d+ /.test(line)) {
      if (hex.length > 0) flush();
      t = Number(line.slice(0, line.indexOf(' '))) * 1000;
    }
  }
  if (hex.length > 0) flush();
  return out;
}

/** A STUN message from one RFC 4571 frame, or undefined for any other frame (application data). */
function decodeStun(frame: Buffer, t: number, out: boolean): StunSeen | undefined {
  if (frame.length < 20 || frame.readUInt32BE(4) !== MAGIC) return undefined;
  let useCandidate = false;
  for (let at = 20; at + 4 <= frame.length; at += 4 + Math.ceil(frame.readUInt16BE(at + 2) / 4) * 4) {
    if (frame.readUInt16BE(at) === USE_CANDIDATE) useCandidate = true;
  }
  const request = frame.readUInt16BE(0) === 0x0001;
  return { t, out, request, tid: frame.subarray(8, 20).toString('hex'), useCandidate };
}

/** The bytes of `s` not yet seen in its direction (a retransmission repeats some), given the next sequence. */
function freshBytes(s: Segment, next: number): Buffer {
  const skip = (next - s.seq) >>> 0;
  if (skip >= 0x80000000) return s.payload;
  return skip >= s.payload.length ? Buffer.alloc(0) : s.payload.subarray(skip);
}

/** The STUN messages in one direction of a connection, from its payload in sequence order. */
function stunOf(conn: Segment[], out: boolean): StunSeen[] {
  const seen: StunSeen[] = [];
  let next: number | undefined;
  let buffer = Buffer.alloc(0);
  for (const s of conn.filter((c) => c.out === out)) {
    if (s.syn) next = (s.seq + 1) >>> 0;
    if (next === undefined || s.payload.length === 0) continue;
    const fresh = freshBytes(s, next);
    next = (next + fresh.length) >>> 0;
    buffer = Buffer.concat([buffer, fresh]);
    while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
      const frame = buffer.subarray(2, 2 + buffer.readUInt16BE(0));
      buffer = buffer.subarray(2 + frame.length);
      const message = decodeStun(frame, s.t, out);
      if (message) seen.push(message);
    }
  }
  return seen;
}

/** The phases of the selected connection (the one with the most payload), or why there are none. */
function phases(all: Segment[]): Record<string, number> | string {
  const bytes = new Map<string, number>();
  for (const s of all) bytes.set(s.key, (bytes.get(s.key) ?? 0) + s.payload.length);
  const key = [...bytes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const conn = all.filter((s) => s.key === key);
  const syns = conn.filter((s) => s.syn);
  const first = syns.find((s) => s.out) ?? syns[0];
  const last = syns.at(-1);
  const mine = stunOf(conn, true);
  const theirs = stunOf(conn, false);
  const answer = (tid: string | undefined) => theirs.find((m) => !m.request && m.tid === tid);
  const check = mine.find((m) => m.request && !m.useCandidate);
  const nomination = mine.find((m) => m.request && m.useCandidate);
  const checkAnswer = answer(check?.tid);
  const nominationAnswer = answer(nomination?.tid);
  if (!first || !last || !check || !checkAnswer || !nomination || !nominationAnswer) {
    const found = { syn: !!first, check: !!check, checkAnswer: !!checkAnswer, nomination: !!nomination };
    return `no check and nomination of hostA on the selected connection: ${JSON.stringify(found)}, STUN out/in ${mine.length}/${theirs.length}`;
  }
  return {
    handshake: last.t - first.t,
    toCheck: check.t - last.t,
    check: checkAnswer.t - check.t,
    toNominate: nomination.t - checkAnswer.t,
    nominate: nominationAnswer.t - nomination.t,
    total: nominationAnswer.t - first.t,
  };
}

if (values.pcap) {
  console.log(JSON.stringify(phases(segments(values.pcap, values.self ?? ''))));
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'lab-trace-'));
const rows: Array<Record<string, number | string>> = [];
const load = [loadavg()[0] ?? 0];
try {
  for (let i = 0; i < runs; i++) {
    const file = join(dir, `run-${i}.pcap`);
    let self = '';
    const result = await runCell(cell, {
      timeoutS: 10,
      rttMs,
      onLab: async (lab) => {
        self = lab.hosts.hostA.address;
        return capture(lab, file);
      },
    });
    const p = result.outcome === 'direct' ? phases(segments(file, self)) : `outcome ${result.outcome}`;
    const round = (v: number) => Math.round(v * 10) / 10;
    rows.push(
      typeof p === 'string'
        ? { outcome: result.outcome, note: p }
        : {
            outcome: result.outcome,
            connectedMs: result.connectedMs ?? Number.NaN,
            ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)])),
          },
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
load.push(loadavg()[0] ?? 0);
const traced = rows.filter((r) => typeof r.total === 'number');
const medians = Object.fromEntries(
  ['connectedMs', 'handshake', 'toCheck', 'check', 'toNominate', 'nominate', 'total'].map((k) => [
    k,
    traced.length ? Math.round(median(traced.map((r) => Number(r[k]))) * 10) / 10 : null,
  ]),
);
console.log(
  JSON.stringify(
    {
      cell: cell.name,
      rttMs,
      floorMs: 3 * rttMs,
      runs: rows,
      medians,
      loadAverage: load.map((l) => Math.round(l * 10) / 10),
    },
    null,
    1,
  ),
);
