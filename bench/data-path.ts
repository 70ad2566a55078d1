/**
 * What the library's own JavaScript costs per GB on the data path, without the kernel: the same chunks pushed
 * through an in-memory socket (a Duplex with net.Socket's few extra methods) read raw, and read through
 * `FramedConnection` + the stream's Duplex; the same writes made raw and through them. Between two processes
 * the kernel's copies, wake-ups and Node's read buffers dominate and swing with the machine's load; this part
 * is the library's alone and is steady, so it shows what a change to framing or the stream saves.
 * Run: npx tsx bench/data-path.ts [--mb 512] [--runs 5] [--versus /path/to/other/checkout] (its classes too,
 * interleaved in the same process: a before/after that the machine's load cannot tilt)
 * Also the stream-resume path (`FramedResumePath` + `ResumableDuplex`, ACKs encoded and signed as on the wire;
 * the sender's window is made large enough that it never waits for an ACK nobody sends here).
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import * as ourStream from '../src/connection/byte-stream.js';
import * as ourResumePath from '../src/connection/framed-resume-path.js';
import * as ourResumable from '../src/connection/resumable-duplex.js';
import { mayBeStunFrame } from '../src/framing/index.js';
import { shortTermKey } from '../src/stun/index.js';
import * as ourTransport from '../src/transport/index.js';
import { median } from './support.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '512' },
    runs: { type: 'string', default: '5' },
    versus: { type: 'string' },
  },
});

interface Impl {
  FramedConnection: typeof ourTransport.FramedConnection;
  FramedByteStream: typeof ourStream.FramedByteStream;
  FramedResumePath: typeof ourResumePath.FramedResumePath;
  ResumableDuplex: typeof ourResumable.ResumableDuplex;
  /** The stream-resume path rather than the plain one. */
  resume?: boolean;
}
const ours: Impl = { ...ourTransport, ...ourStream, ...ourResumePath, ...ourResumable };
const versus: Impl | undefined =
  values.versus === undefined
    ? undefined
    : {
        ...((await import(`${values.versus}/src/transport/index.ts`)) as typeof ourTransport),
        ...((await import(`${values.versus}/src/connection/byte-stream.ts`)) as typeof ourStream),
        ...((await import(`${values.versus}/src/connection/framed-resume-path.ts`)) as typeof ourResumePath),
        ...((await import(`${values.versus}/src/connection/resumable-duplex.ts`)) as typeof ourResumable),
      };
const KEY = shortTermKey('datapathpassworddatapath');

/** The application's Duplex over `socket` as `impl` builds it: plain frames, or the resume protocol. */
function streamOver(impl: Impl, socket: Socket): Duplex {
  const connection = new impl.FramedConnection(socket);
  if (impl.resume) {
    const path = new impl.FramedResumePath(connection, { localKey: KEY, remoteKey: KEY });
    return new impl.ResumableDuplex(path, { window: 2 * total });
  }
  const stream = new impl.FramedByteStream(connection);
  connection.on('bytes', (piece) => stream.deliver(piece));
  // as IceConnection.stream() does
  connection.streamFrames((first, length, chunk, offset) => !mayBeStunFrame(first, length, chunk, offset));
  return stream;
}
const total = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);
const READ = 64 * 1024;

/** A socket in memory: what is pushed is read, what is written is dropped (as a kernel that keeps up). */
function memorySocket(): Socket {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
    writev(_chunks, callback) {
      callback();
    },
  });
  return Object.assign(socket, {
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
    localAddress: '127.0.0.1',
    localPort: 1,
    remoteAddress: '127.0.0.1',
    remotePort: 2,
  }) as unknown as Socket;
}

/** The bytes a sender of `writeSize` writes puts on the wire, cut in 64 KiB reads as the kernel hands them. */
function wireReads(writeSize: number): Buffer[] {
  const payload = Buffer.alloc(writeSize, 0xa5);
  const frames: Buffer[] = [];
  for (let at = 0; at < writeSize; at += 65535) {
    const piece = payload.subarray(at, Math.min(writeSize, at + 65535));
    const header = Buffer.alloc(2);
    header.writeUInt16BE(piece.length);
    frames.push(header, piece);
  }
  const wire = Buffer.concat(frames);
  const reads: Buffer[] = [];
  for (let at = 0; at < wire.length; at += READ) reads.push(wire.subarray(at, at + READ));
  return reads;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const cpu = async (fn: () => void, done: () => boolean): Promise<number> => {
  await tick(); // streams start flowing on the next tick
  const start = process.cpuUsage();
  fn();
  while (!done()) await tick();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

/** CPU seconds per GB to read `total` bytes through `setup`'s reader. */
async function receive(impl: Impl | undefined, writeSize: number): Promise<number> {
  const socket = memorySocket();
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
  };
  if (impl) streamOver(impl, socket).on('data', count);
  else socket.on('data', count);
  const reads = wireReads(writeSize);
  const wire = reads.reduce((sum, read) => sum + read.length, 0);
  const seconds = await cpu(
    () => {
      // the same buffers again: a copy per read, as a socket makes, would cost both sides alike and drown the rest
      for (let pushed = 0; pushed < total; pushed += wire) for (const read of reads) socket.push(read);
    },
    () => received >= total,
  );
  return seconds / (received / 1e9);
}

/** CPU seconds per GB to write `total` bytes in writes of `writeSize`, raw or as a stream of frames. */
async function send(impl: Impl | undefined, writeSize: number): Promise<number> {
  const socket = memorySocket();
  const target = impl ? streamOver(impl, socket) : socket;
  const chunk = Buffer.alloc(writeSize, 0x5a);
  let sent = 0;
  const seconds = await cpu(
    () => {
      for (let at = 0; at < total; at += writeSize) target.write(chunk, () => (sent += writeSize));
    },
    () => sent >= total,
  );
  return seconds / (total / 1e9);
}

const result: Record<string, unknown> = { node: process.version, mb: Number(values.mb), runs };
for (const [name, writeSize] of [
  ['64k', 64 * 1024],
  ['1m', 1024 * 1024],
] as const) {
  for (const [dir, fn] of [
    ['recv', receive],
    ['send', send],
  ] as const) {
    const raw: number[] = [];
    const ice: number[] = [];
    const other: number[] = [];
    const resume: number[] = [];
    const otherResume: number[] = [];
    const oursResume = { ...ours, resume: true };
    const versusResume = versus && { ...versus, resume: true };
    await fn(ours, writeSize); // warm-up
    await fn(oursResume, writeSize);
    if (versus && versusResume) {
      await fn(versus, writeSize);
      await fn(versusResume, writeSize);
    }
    for (let i = 0; i < runs; i++) {
      raw.push(await fn(undefined, writeSize));
      ice.push(await fn(ours, writeSize));
      resume.push(await fn(oursResume, writeSize));
      if (versus && versusResume) {
        other.push(await fn(versus, writeSize));
        otherResume.push(await fn(versusResume, writeSize));
      }
    }
    const r = median(raw);
    const c = median(ice);
    const round = (value: number) => Number(value.toFixed(3));
    result[`${dir}${name}`] = {
      rawSecondsPerGB: round(r),
      iceSecondsPerGB: round(c),
      extraSecondsPerGB: round(c - r),
      resumeSecondsPerGB: round(median(resume)),
      resumeExtra: round(median(resume) - r),
      ...(versus && {
        versusSecondsPerGB: round(median(other)),
        versusExtra: round(median(other) - r),
        versusResumeExtra: round(median(otherResume) - r),
      }),
    };
  }
}
console.log(JSON.stringify(result, null, 2));
