/**
 * One end of bench/throughput-2p.ts, in its own process (forked with tsx): the sender or the receiver of a
 * stream or of 1200-byte packets, over raw TCP, an ICE-TCP connection, ICE through coturn, or a plain
 * RFC 6062 relayed connection (no ICE). Talks to the driver over the IPC channel: see {@link Command}.
 * Times are CLOCK_MONOTONIC (process.hrtime), the same clock in every process, so the driver can subtract
 * the sender's start from the receiver's finish.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Socket, connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IceAgentOptions, IceConnection, Signaller, SignalMessage } from '../src/index.js';
import { TurnAllocation, type TurnPeerConnection, type TurnServerOptions } from '../src/turn/index.js';
import { loopbackListener } from './support.js';
import { countRead, type RunCounts, runCounts, startCounts } from './throughput-probe.js';

/** How the two workers reach each other. */
export type Transport =
  | 'raw'
  | 'raw-framed'
  | 'raw-onread'
  | 'ice'
  | 'ice-noresume'
  | 'ice-relay'
  | 'turn-raw'
  | 'turn-raw-rev'
  | 'turn-raw-framed';
/** What moves: bytes in application writes of `writeSize`, or 1200-byte packets. */
export type Workload = 'stream' | 'packets';

/** Driver to worker. */
export type Command =
  | { op: 'setup'; transport: Transport; role: 'send' | 'recv'; turn?: TurnServerOptions }
  | { op: 'signal'; message: SignalMessage }
  | { op: 'peer'; address: string; port: number }
  | { op: 'recv'; workload: Workload; total: number }
  | { op: 'send'; workload: Workload; total: number; writeSize: number }
  | { op: 'cpu' }
  /** The pair is about to close: from now on the peer's reset is expected (answered with `quiet`). */
  | { op: 'quiesce' }
  | { op: 'exit' };

/** Worker to driver. */
export type Report =
  | { op: 'signal'; message: SignalMessage }
  | { op: 'listening'; address: string; port: number }
  | { op: 'connected'; pair: string }
  | { op: 'ready' }
  | ({ op: 'received'; endNs: string; cpu: number; sys: number } & RunCounts)
  | { op: 'sent'; startNs: string }
  | { op: 'cpu'; cpu: number; sys: number }
  | { op: 'quiet' };

const PACKET_SIZE = 1200;

// BENCH_ICE_TCP_SRC: run the ICE of another checkout (its src/index.ts), for a before/after in one run
const lib: typeof import('../src/index.js') = await import(
  process.env.BENCH_ICE_TCP_SRC === undefined
    ? '../src/index.js'
    : `${process.env.BENCH_ICE_TCP_SRC}/src/index.ts`
);

function report(message: Report): void {
  process.send?.(message);
}

/** Signalling through the driver, which forwards to the other worker. */
class IpcSignaller implements Signaller {
  private handler: ((message: SignalMessage) => void) | undefined;
  private readonly backlog: SignalMessage[] = [];

  send(message: SignalMessage): void {
    report({ op: 'signal', message });
  }

  onMessage(handler: (message: SignalMessage) => void): () => void {
    this.handler = handler;
    for (const m of this.backlog.splice(0)) handler(m);
    return () => {
      this.handler = undefined;
    };
  }

  deliver(message: SignalMessage): void {
    if (this.handler) this.handler(message);
    else this.backlog.push(message);
  }
}

/** The connected end, whatever the transport: a byte stream, and a way to send and receive packets. */
interface End {
  stream: Duplex | Socket;
  sendPacket(packet: Buffer): boolean;
  onPackets(handler: (count: number) => void): void;
  drain(): Promise<unknown>;
  onError(handler: (error: Error) => void): void;
}

function iceEnd(conn: IceConnection, workload: 'stream' | 'packets'): End {
  const stream = workload === 'stream' ? conn.stream() : undefined;
  return {
    stream: stream as Duplex,
    sendPacket: (p) => conn.send(p),
    onPackets: (handler) => conn.on('packet', () => handler(1)),
    drain: () => (stream ? once(stream, 'drain') : new Promise<void>((r) => conn.once('drain', () => r()))),
    onError: (handler) => {
      conn.on('error', handler);
      stream?.on('error', handler);
    },
  };
}

/** What a user without this library would do: a 2-byte length before each packet, a small deframer. */
function socketEnd(socket: Socket): End {
  socket.setNoDelay(true);
  return {
    stream: socket,
    sendPacket(p) {
      const frame = Buffer.allocUnsafe(2 + p.length);
      frame.writeUInt16BE(p.length, 0);
      p.copy(frame, 2);
      return socket.write(frame);
    },
    onPackets(handler) {
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
        let count = 0;
        while (data.length >= 2) {
          const length = data.readUInt16BE(0);
          if (data.length < 2 + length) break;
          count++;
          data = data.subarray(2 + length);
        }
        pending = data;
        if (count > 0) handler(count);
      });
    },
    drain: () => once(socket, 'drain'),
    onError: (handler) => socket.on('error', handler),
  };
}

/**
 * raw-framed, turn-raw-framed: raw Node TCP (direct, or relayed) writing what ice-tcp puts on the wire for the same write, RFC 4571 frames as a
 * header buffer and a payload view each, corked into one writev: the cost of that layout without the library.
 */
let framedWrites = false;
const FULL_HEADER = Buffer.from([0xff, 0xff]);

function writeFrames(socket: Socket, bytes: Buffer): boolean {
  socket.cork();
  for (let at = 0; at < bytes.length; at += 65535) {
    const payload = bytes.subarray(at, at + 65535);
    let header = FULL_HEADER;
    if (payload.length !== 65535) {
      header = Buffer.allocUnsafe(2);
      header.writeUInt16BE(payload.length, 0);
    }
    socket.write(header);
    socket.write(payload);
  }
  socket.uncork();
  return socket.writableLength < socket.writableHighWaterMark;
}

const signaller = new IpcSignaller();
let end: End | undefined;
let workload: Workload | undefined;
let exiting = false;
/**
 * The receiver's address, from the driver. Kept whenever it comes: the turn-raw sender asks for it only after
 * its own allocation, and a receiver that allocated first would otherwise have it dropped (the setup then hung).
 */
let deliverPeer: (address: string, port: number) => void = () => {};
const peerAddress = new Promise<[string, number]>((resolve) => {
  deliverPeer = (address, port) => resolve([address, port]);
});
let closeAll: () => void = () => {};
// Counters of the current run; the data handlers are attached once, at the first run.
let expected = 0;
let received = 0;
let cpuStart = process.cpuUsage();

const cpuSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

function finishIfDone(): void {
  if (expected > 0 && received >= expected) {
    expected = 0;
    report({
      op: 'received',
      endNs: process.hrtime.bigint().toString(),
      cpu: cpuSince(cpuStart),
      sys: process.cpuUsage(cpuStart).system / 1e6,
      ...runCounts(),
    });
  }
}

async function setup(command: Extract<Command, { op: 'setup' }>): Promise<void> {
  const controlling = command.role === 'send';
  framedWrites = command.transport.endsWith('-framed');
  // BENCH_PIDS=1: which process is which, for `perf record` over a whole run
  if (process.env.BENCH_PIDS)
    process.stderr.write(`pid ${process.pid}: ${command.transport} ${command.role}\n`);
  if (command.transport === 'raw-onread') return rawOnread(command.role);
  if (command.transport === 'raw' || command.transport === 'raw-framed') {
    if (command.role === 'recv') {
      const { server, port, accepted } = await loopbackListener();
      report({ op: 'listening', address: '127.0.0.1', port });
      const socket = await accepted;
      closeAll = () => server.close();
      return connected(socket, command.transport);
    }
    const [address, port] = await peerAddress;
    const socket = tcpConnect(port, address);
    await once(socket, 'connect');
    return connected(socket, command.transport);
  }
  if (command.transport.startsWith('turn-raw')) return turnRaw(command);
  const options: IceAgentOptions = {
    role: controlling ? 'controlling' : 'controlled',
    addresses: ['127.0.0.1'],
    ...(command.transport === 'ice-noresume' ? { streamResume: false } : {}),
    ...(command.transport === 'ice-relay' && command.turn
      ? { forceRelay: true, turnServers: [command.turn] }
      : {}),
  };
  const agent = new lib.IceAgent(options);
  lib.attachSignaller(agent, signaller);
  const conn = await agent.connect();
  closeAll = () => agent.close();
  const l = conn.localCandidate;
  const r = conn.remoteCandidate;
  report({ op: 'connected', pair: `${l.type} ${l.tcpType} -> ${r.type} ${r.tcpType}` });
  pending = conn;
}

/** raw-onread's receiver: bytes read into its reused buffer (no 'data' events, no Buffer per read). */
let onreadBytes: ((count: number) => void) | undefined;

/**
 * Raw TCP read the cheapest way Node offers: `onread` with one reused 1 MiB buffer, so no fresh 64 KiB
 * Buffer per read (that allocation, page-faulted anew each time, is most of a plain 'data' receiver's CPU).
 * Only a dialling socket takes `onread`, so here the receiver dials and the sender listens.
 */
async function rawOnread(role: 'send' | 'recv'): Promise<void> {
  if (role === 'send') {
    const { server, port, accepted } = await loopbackListener();
    report({ op: 'listening', address: '127.0.0.1', port });
    const socket = await accepted;
    closeAll = () => server.close();
    return connected(socket, 'raw-onread');
  }
  onreadBytes = () => {};
  const [address, port] = await peerAddress;
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const socket = tcpConnect({
    port,
    host: address,
    onread: {
      buffer,
      callback: (count) => {
        countRead();
        onreadBytes?.(count);
        return true;
      },
    },
  });
  await once(socket, 'connect');
  return connected(socket, 'raw-onread');
}

/** The ICE connection, until the first run says which mode (stream or packets) it is used in. */
let pending: IceConnection | undefined;

function connected(socket: Socket, pair: string): void {
  end = socketEnd(socket);
  report({ op: 'connected', pair });
}

/**
 * Both sides allocate on the same coturn, one connects from its allocation to the other's relayed address:
 * the same two trips through the server as ICE's relay-to-relay pair, without ICE or framing.
 */
async function turnRaw(command: Extract<Command, { op: 'setup' }>): Promise<void> {
  if (!command.turn) throw new Error('turn-raw needs a TURN server');
  const allocation = await TurnAllocation.allocate({ ...command.turn, localAddress: '127.0.0.1' });
  // a failed ConnectionBind is only an 'error' event: without a listener the setup would wait for ever
  allocation.on('error', (error) => {
    process.stderr.write(`worker: turn-raw allocation: ${error.message}\n`);
    process.exit(1);
  });
  closeAll = () => void allocation.close();
  // turn-raw-rev: the receiver dials (Connect) and the sender accepts (ConnectionAttempt), as in the pair ICE
  // nominated through coturn here; coturn moves data at different rates in the two set-ups
  const listener = command.transport === 'turn-raw-rev' ? 'send' : 'recv';
  const dialler = listener === 'send' ? 'receiver' : 'sender';
  if (command.role === listener) {
    await allocation.createPermission([allocation.relayedAddress.address]);
    const accepted = new Promise<TurnPeerConnection>((r) => allocation.once('connection', r));
    report({
      op: 'listening',
      address: allocation.relayedAddress.address,
      port: allocation.relayedAddress.port,
    });
    const peer = await accepted;
    return connected(peer.socket, `turn relay -> turn relay (RFC 6062, no ICE, ${dialler} dials)`);
  }
  const [address, port] = await peerAddress;
  const peer = await allocation.connect({ family: 4, address, port });
  return connected(peer.socket, `turn relay -> turn relay (RFC 6062, no ICE, ${dialler} dials)`);
}

function attach(kind: Workload): End {
  if (end === undefined) {
    if (pending === undefined) throw new Error('not connected');
    end = iceEnd(pending, kind);
  }
  if (workload === undefined) {
    workload = kind;
    // the peer closing first at the end resets us (coturn has no half-close): only an error mid-run counts
    end.onError((error: Error) => {
      if (exiting) return;
      process.stderr.write(`worker: ${error.message}\n`);
      process.exit(1);
    });
    if (kind === 'stream' && onreadBytes !== undefined) {
      onreadBytes = (count) => {
        received += count;
        finishIfDone();
      };
    } else if (kind === 'stream') {
      end.stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        finishIfDone();
      });
    } else {
      end.onPackets((count) => {
        received += count;
        finishIfDone();
      });
    }
  }
  if (workload !== kind) throw new Error('one workload per connection');
  return end;
}

async function send(command: Extract<Command, { op: 'send' }>): Promise<void> {
  const e = attach(command.workload);
  const startNs = process.hrtime.bigint().toString();
  cpuStart = process.cpuUsage();
  if (command.workload === 'stream') {
    const chunk = Buffer.alloc(command.writeSize, 0xa5);
    for (let sent = 0; sent < command.total; ) {
      const size = Math.min(command.writeSize, command.total - sent);
      sent += size;
      const piece = size === chunk.length ? chunk : chunk.subarray(0, size);
      const ok = framedWrites ? writeFrames(e.stream as Socket, piece) : e.stream.write(piece);
      if (!ok) await e.drain();
    }
  } else {
    const packet = Buffer.alloc(PACKET_SIZE, 0x5a);
    for (let i = 0; i < command.total; i++) if (!e.sendPacket(packet)) await e.drain();
  }
  report({ op: 'sent', startNs });
}

/** With BENCH_PROFILE=FILE, a CPU profile of the transfers only: start-up (tsx compiling) would drown them. */
const profileFile = process.env.BENCH_PROFILE;
let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  if (profileFile === undefined || profiler !== undefined) return;
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

async function stopProfile(): Promise<void> {
  if (profileFile === undefined || profiler === undefined) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(profileFile, JSON.stringify(profile));
}

process.on('message', (command: Command) => {
  const run = async (): Promise<void> => {
    switch (command.op) {
      case 'setup':
        return setup(command);
      case 'signal':
        return signaller.deliver(command.message);
      case 'peer':
        return deliverPeer(command.address, command.port);
      case 'recv':
        await startProfile();
        attach(command.workload);
        received = 0;
        startCounts();
        expected = command.total;
        cpuStart = process.cpuUsage();
        return report({ op: 'ready' });
      case 'send':
        await startProfile();
        return send(command);
      case 'cpu':
        return report({ op: 'cpu', cpu: cpuSince(cpuStart), sys: process.cpuUsage(cpuStart).system / 1e6 });
      case 'quiesce':
        exiting = true;
        report({ op: 'quiet' });
        return;
      case 'exit':
        exiting = true;
        await stopProfile();
        closeAll();
        setTimeout(() => process.exit(0), 50);
    }
  };
  run().catch((error: unknown) => {
    process.stderr.write(`worker: ${String(error instanceof Error ? error.stack : error)}\n`);
    process.exit(1);
  });
});
