/**
 * Throughput over the nominated pair of two IceAgents on 127.0.0.1, against a raw TCP socket pair on the
 * same loopback measured in the same run (runs alternate, so load from other processes hits both alike):
 * - stream: `conn.stream()` Duplex vs raw socket, big writes, bytes/s;
 * - packets: `conn.send(1200 bytes)` + `'packet'` vs raw socket with a hand-written 2-byte length prefix
 *   and a hand-written deframer on the receiver (what a user would do without this library), packets/s.
 * Both sides respect backpressure: write() returning false waits for 'drain'.
 * Run: npx tsx bench/throughput.ts [--runs 5] [--warmups 2] [--stream-mb 64] [--packets 100000]
 */
import { once } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { IceAgent, type IceConnection } from '../src/index.js';
import { gathered, loopbackListener, median } from './support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

const runs = option('runs', 5);
const warmups = option('warmups', 2);
const streamBytes = option('stream-mb', 64) * 1024 * 1024;
const packetCount = option('packets', 100_000);
const PACKET_SIZE = 1200;
const WRITE_CHUNK = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/** Two agents on loopback, connected; returns both ends of the nominated pair. */
async function icePair(): Promise<{ a: IceConnection; b: IceConnection; close(): void }> {
  const alice = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlling' });
  const bob = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlled' });
  const [aliceCandidates, bobCandidates] = await Promise.all([gathered(alice), gathered(bob)]);
  const connected = Promise.all([alice.connect(), bob.connect()]);
  alice.setRemoteParameters(bob.localParameters);
  bob.setRemoteParameters(alice.localParameters);
  for (const c of bobCandidates) alice.addRemoteCandidate(c);
  for (const c of aliceCandidates) bob.addRemoteCandidate(c);
  alice.addRemoteCandidate(null);
  bob.addRemoteCandidate(null);
  const [a, b] = await connected;
  return {
    a,
    b,
    close() {
      alice.close();
      bob.close();
    },
  };
}

/** A raw TCP connection on loopback, Nagle off as on the agents' sockets. */
async function rawPair(): Promise<{ a: Socket; b: Socket; close(): void }> {
  const { server, port, accepted } = await loopbackListener();
  const a = tcpConnect(port, '127.0.0.1');
  await once(a, 'connect');
  const b = await accepted;
  a.setNoDelay(true);
  b.setNoDelay(true);
  return {
    a,
    b,
    close() {
      a.destroy();
      b.destroy();
      server.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workloads: each returns seconds from the first write to the last byte or packet received, and the
// CPU seconds (user + system) the process spent meanwhile: both ends live in this process, so CPU time per
// byte is the cost of the path itself and suffers much less than wall time from other processes' load.
// ---------------------------------------------------------------------------------------------

interface Timing {
  wall: number;
  cpu: number;
}

function startTiming(): () => Timing {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6 };
  };
}

const payload = Buffer.alloc(WRITE_CHUNK, 0xa5);

/** Writes `total` bytes in big chunks into `from`, resolves when `to` has read them all. */
async function streamRun(from: Duplex | Socket, to: Duplex | Socket, total: number): Promise<Timing> {
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received >= total) {
        to.off('data', onData);
        resolve();
      }
    };
    to.on('data', onData);
  });
  const stop = startTiming();
  for (let sent = 0; sent < total; ) {
    const size = Math.min(WRITE_CHUNK, total - sent);
    sent += size;
    if (!from.write(size === WRITE_CHUNK ? payload : payload.subarray(0, size))) await once(from, 'drain');
  }
  await done;
  return stop();
}

const packet = Buffer.alloc(PACKET_SIZE, 0x5a);

/** The library's packet mode: `send()` per packet, one `'packet'` event per packet. */
async function icePacketRun(a: IceConnection, b: IceConnection, count: number): Promise<Timing> {
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onPacket = (p: Buffer): void => {
      if (p.length !== PACKET_SIZE) throw new Error(`packet of ${p.length} bytes`);
      if (++received === count) {
        b.off('packet', onPacket);
        resolve();
      }
    };
    b.on('packet', onPacket);
  });
  const stop = startTiming();
  for (let i = 0; i < count; i++) {
    if (!a.send(packet)) await new Promise<void>((resolve) => a.once('drain', resolve));
  }
  await done;
  return stop();
}

/** The same by hand on a raw socket: a 2-byte length before each packet, and a small deframer. */
async function rawPacketRun(a: Socket, b: Socket, count: number): Promise<Timing> {
  let received = 0;
  const done = new Promise<void>((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (data.length >= 2) {
        const length = data.readUInt16BE(0);
        if (data.length < 2 + length) break;
        const p = data.subarray(2, 2 + length);
        if (p.length !== PACKET_SIZE) throw new Error(`packet of ${p.length} bytes`);
        received++;
        data = data.subarray(2 + length);
      }
      pending = data;
      if (received === count) {
        b.off('data', onData);
        resolve();
      }
    };
    b.on('data', onData);
  });
  const stop = startTiming();
  for (let i = 0; i < count; i++) {
    const frame = Buffer.allocUnsafe(2 + PACKET_SIZE);
    frame.writeUInt16BE(PACKET_SIZE, 0);
    packet.copy(frame, 2);
    if (!a.write(frame)) await once(a, 'drain');
  }
  await done;
  return stop();
}

// ---------------------------------------------------------------------------------------------

const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

interface Comparison {
  ice: number;
  raw: number;
  /** Median over runs of raw time / ice time (wall clock): the goal is judged on this. */
  ratio: number;
  ratios: number[];
  /** The same with CPU time, which other processes' load disturbs much less. */
  cpuRatio: number;
}

/** Runs ice and raw alternately `runs` times (after `warmups` each); medians and the median per-run ratio. */
async function compare(
  name: string,
  units: number,
  ice: () => Promise<Timing>,
  raw: () => Promise<Timing>,
): Promise<Comparison> {
  // Loopback TCP ramps up over the first tens of MB (receive-buffer autotuning): measure past that.
  for (let i = 0; i < warmups; i++) {
    await raw();
    await ice();
  }
  const iceRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so neither always runs on the warmer machine.
    let iceTime: Timing;
    let rawTime: Timing;
    if (i % 2 === 0) {
      iceTime = await ice();
      rawTime = await raw();
    } else {
      rawTime = await raw();
      iceTime = await ice();
    }
    iceRates.push(units / iceTime.wall);
    rawRates.push(units / rawTime.wall);
    ratios.push(rawTime.wall / iceTime.wall);
    cpuRatios.push(rawTime.cpu / iceTime.cpu);
    process.stderr.write(
      `${name} run ${i + 1}: ice/raw ${(rawTime.wall / iceTime.wall).toFixed(3)} wall, ` +
        `${(rawTime.cpu / iceTime.cpu).toFixed(3)} cpu (ice ${iceTime.wall.toFixed(3)} s, raw ${rawTime.wall.toFixed(3)} s)\n`,
    );
  }
  return {
    ice: Math.round(median(iceRates)),
    raw: Math.round(median(rawRates)),
    ratio: round(median(ratios)),
    ratios: ratios.map((r) => round(r)),
    cpuRatio: round(median(cpuRatios)),
  };
}

const streamIce = await icePair();
const streamRaw = await rawPair();
const iceStream = streamIce.a.stream();
const iceStreamPeer = streamIce.b.stream();
const stream = await compare(
  'stream',
  streamBytes,
  () => streamRun(iceStream, iceStreamPeer, streamBytes),
  () => streamRun(streamRaw.a, streamRaw.b, streamBytes),
);
streamIce.close();
streamRaw.close();

const packetIce = await icePair();
const packetRaw = await rawPair();
const packets = await compare(
  'packets',
  packetCount,
  () => icePacketRun(packetIce.a, packetIce.b, packetCount),
  () => rawPacketRun(packetRaw.a, packetRaw.b, packetCount),
);
packetIce.close();
packetRaw.close();

console.log(
  JSON.stringify(
    {
      node: process.version,
      runs,
      warmups,
      stream: {
        bytesPerRun: streamBytes,
        writeChunk: WRITE_CHUNK,
        bytesPerSec: { ice: stream.ice, raw: stream.raw },
        iceOverRaw: stream.ratio,
        perRun: stream.ratios,
        iceOverRawCpu: stream.cpuRatio,
        goal: '>= 0.9',
        withinGoal: stream.ratio >= 0.9,
      },
      packets: {
        packetsPerRun: packetCount,
        packetSize: PACKET_SIZE,
        packetsPerSec: { ice: packets.ice, raw: packets.raw },
        iceOverRaw: packets.ratio,
        perRun: packets.ratios,
        iceOverRawCpu: packets.cpuRatio,
        goal: '>= 0.8',
        withinGoal: packets.ratio >= 0.8,
      },
    },
    null,
    2,
  ),
);
process.exit(0);
