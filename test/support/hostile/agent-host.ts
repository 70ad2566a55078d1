/**
 * Child process that hosts IceAgents for the hostile harness (see rpc.ts): it creates, connects and closes
 * agents on request, receives or sends hostile data on their connections, and reports its own RSS and fds.
 * Every crash is reported to the parent, which is the point: the harness must see crashes, not die of them.
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { IceAgent, type IceAgentOptions, type IceConnection, probeNat } from '../../../src/index.js';
import { StunServer, type StunServerOptions } from '../../../src/server/index.js';
import { hostilePayload, type VictimKnowledge } from './mutate.js';
import { Prng } from './prng.js';
import { type ProbeSummary, probeOnce, tcpSockets } from './probes.js';
import { serve } from './rpc.js';

interface Received {
  /** The last packet, as text (at most 40 characters). */
  last: string;
  packets: number;
  bytes: number;
  hash: Hash;
  ended: boolean;
  errors: string[];
}

interface Hosted {
  agent: IceAgent;
  /** When the remote description arrived: checks start then, not at connect(). */
  remoteAt?: number;
  connection?: IceConnection;
  stream?: Duplex;
  received?: Received;
  errors: string[];
}

/** What `create` returns: the agent's description and the ports an attacker aims at. */
export interface CreatedAgent {
  id: number;
  lines: string[];
  ufrag: string;
  pwd: string;
  passivePorts: number[];
  soPorts: number[];
}

/** Counters of what an agent received in `receive` mode. */
export interface ReceivedSummary {
  last: string;
  packets: number;
  bytes: number;
  sha256: string;
  ended: boolean;
  errors: string[];
}

/** What `send` sent; `stalled` says why it stopped early. */
export interface SentSummary {
  packets: number;
  bytes: number;
  sha256: string;
  stalled: string | undefined;
}

/** The host process's resources. */
export interface HostStats {
  rss: number;
  /** After a full GC when the host runs with --expose-gc (it does, see harness.ts). */
  heapUsed: number;
  /** Largest event-loop delay since the previous `stats` call (ms): how busy the victim was. */
  loopDelayMaxMs: number;
  fds: number;
  /** CPU time the host process used so far, user + system (ms). */
  cpuMs: number;
  agents: number;
  agentErrors: Record<string, number>;
}

const agents = new Map<number, Hosted>();
const stunServers = new Map<number, StunServer>();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const errorCounts: Record<string, number> = {};
let nextId = 1;

function hosted(id: number): Hosted {
  const h = agents.get(id);
  if (!h) throw new Error(`no agent ${id}`);
  return h;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
}

function noteError(h: Hosted, err: unknown): void {
  const code = codeOf(err);
  errorCounts[code] = (errorCounts[code] ?? 0) + 1;
  if (h.errors.length < 20) h.errors.push(`${code}: ${err instanceof Error ? err.message : String(err)}`);
}

function portsOf(lines: string[], tcpType: string): number[] {
  return lines
    .filter(
      (l) => l.startsWith('a=candidate') && l.includes(' typ host ') && l.includes(`tcptype ${tcpType}`),
    )
    .map((l) => Number(l.split(' ')[5]));
}

/** Length-prefixed, so that two packets never hash like their concatenation. */
function hashPacket(hash: Hash, p: Buffer): void {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(p.length, 0);
  hash.update(len).update(p);
}

function summary(r: Received): ReceivedSummary {
  return {
    last: r.last,
    packets: r.packets,
    bytes: r.bytes,
    sha256: r.hash.copy().digest('hex'),
    ended: r.ended,
    errors: r.errors,
  };
}

serve({
  async create(args: { options: IceAgentOptions }): Promise<CreatedAgent> {
    const agent = new IceAgent({ addresses: ['127.0.0.1'], ...args.options });
    const id = nextId++;
    const h: Hosted = { agent, errors: [] };
    agents.set(id, h);
    agent.on('error', (e) => noteError(h, e));
    await agent.gather();
    const lines = agent.localDescription();
    const { ufrag, pwd } = agent.localParameters;
    return { id, lines, ufrag, pwd, passivePorts: portsOf(lines, 'passive'), soPorts: portsOf(lines, 'so') };
  },

  /** Gathers with the given options (e.g. hostile STUN/TURN servers); `ms` until gather() settled. */
  async gatherOnly(args: {
    options: IceAgentOptions;
  }): Promise<{ ms: number; candidates: number; errors: string[]; rejected?: string }> {
    const agent = new IceAgent({ addresses: ['127.0.0.1'], ...args.options });
    const h: Hosted = { agent, errors: [] };
    agent.on('error', (e) => noteError(h, e));
    const start = performance.now();
    let rejected: string | undefined;
    try {
      await agent.gather();
    } catch (err) {
      rejected = `${codeOf(err)}: ${(err as Error).message}`;
    }
    const ms = performance.now() - start;
    const candidates = agent.localDescription().filter((l) => l.startsWith('a=candidate')).length;
    agent.close();
    return { ms, candidates, errors: h.errors, rejected };
  },

  /** The NAT probe against `port` (twice, as two servers): `ms` until it settled. */
  async natProbe(args: { port: number; timeoutMs: number }): Promise<{ ms: number; result: string }> {
    const start = performance.now();
    try {
      const report = await probeNat({
        servers: [
          { host: '127.0.0.1', port: args.port },
          { host: '127.0.0.1', port: args.port },
        ],
        localAddress: '127.0.0.1',
        timeoutMs: args.timeoutMs,
      });
      return { ms: performance.now() - start, result: `ok ${JSON.stringify(report).slice(0, 80)}` };
    } catch (err) {
      return { ms: performance.now() - start, result: `${codeOf(err)}: ${(err as Error).message}` };
    }
  },

  remote(args: { id: number; lines: string[] }): void {
    const h = hosted(args.id);
    h.remoteAt = performance.now();
    h.agent.setRemoteDescription(args.lines);
  },

  /** `ms` counts from the remote description, when the checks start. */
  async connect(args: { id: number }): Promise<{ ms: number; error?: string }> {
    const h = hosted(args.id);
    const start = h.remoteAt ?? performance.now();
    try {
      h.connection = await h.agent.connect();
      h.connection.on('error', (e) => noteError(h, e));
      return { ms: performance.now() - start };
    } catch (err) {
      noteError(h, err);
      return { ms: performance.now() - start, error: `${codeOf(err)}: ${(err as Error).message}` };
    }
  },

  receive(args: { id: number; mode: 'packets' | 'stream' }): void {
    const h = hosted(args.id);
    const conn = h.connection;
    if (!conn) throw new Error('not connected');
    const r: Received = {
      last: '',
      packets: 0,
      bytes: 0,
      hash: createHash('sha256'),
      ended: false,
      errors: [],
    };
    h.received = r;
    if (args.mode === 'packets') {
      conn.on('packet', (p: Buffer) => {
        r.packets++;
        r.last = p.subarray(0, 40).toString('latin1');
        r.bytes += p.length;
        hashPacket(r.hash, p);
      });
      conn.on('close', () => {
        r.ended = true;
      });
      return;
    }
    const stream = conn.stream();
    h.stream = stream;
    stream.on('data', (d: Buffer) => {
      r.bytes += d.length;
      r.hash.update(d);
    });
    stream.on('end', () => {
      r.ended = true;
    });
    stream.on('error', (e) => r.errors.push(codeOf(e)));
  },

  async received(args: {
    id: number;
    packets?: number;
    bytes?: number;
    timeoutMs: number;
  }): Promise<ReceivedSummary> {
    const r = hosted(args.id).received;
    if (!r) throw new Error('not receiving');
    const deadline = Date.now() + args.timeoutMs;
    const done = () => r.packets >= (args.packets ?? 0) && r.bytes >= (args.bytes ?? 0);
    while (!done() && !r.ended && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    return summary(r);
  },

  /** Sends `count` hostile payloads as packets or as separate stream writes (with backpressure). */
  async send(args: {
    id: number;
    mode: 'packets' | 'stream';
    seed: number;
    count: number;
    who: VictimKnowledge;
  }): Promise<SentSummary> {
    const h = hosted(args.id);
    const conn = h.connection;
    if (!conn) throw new Error('not connected');
    const rng = new Prng(args.seed);
    const hash = createHash('sha256');
    let packets = 0;
    let bytes = 0;
    let stalled: string | undefined;
    const stream = args.mode === 'stream' ? conn.stream() : undefined;
    stream?.on('error', (e) => noteError(h, e));
    // A writer waiting for 'drain' on a dead connection is a hang to report, not to suffer.
    const drained = (emitter: { once(e: 'drain', f: () => void): unknown }) =>
      new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve('no drain within 5 s'), 5000);
        emitter.once('drain', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    try {
      for (let i = 0; i < args.count && stalled === undefined; i++) {
        const p = hostilePayload(rng, args.who);
        // An empty write is no data in a stream, and whether an empty packet is a packet is not the question here.
        if (p.length === 0) continue;
        packets++;
        bytes += p.length;
        if (stream) {
          hash.update(p);
          if (!stream.write(p)) stalled = await drained(stream);
        } else {
          hashPacket(hash, p);
          if (!conn.send(p)) stalled = await drained(conn);
        }
      }
    } catch (err) {
      stalled = `${codeOf(err)}: ${(err as Error).message}`;
    }
    return { packets, bytes, sha256: hash.digest('hex'), stalled };
  },

  /** `count` small plain packets (not STUN-like): is the connection still carrying data? */
  sendPlain(args: { id: number; count: number }): number {
    const conn = hosted(args.id).connection;
    if (!conn) throw new Error('not connected');
    for (let i = 0; i < args.count; i++) conn.send(Buffer.from(`plain packet ${i}`));
    return args.count;
  },

  close(args: { id: number }): void {
    const h = agents.get(args.id);
    agents.delete(args.id);
    h?.agent.close();
  },

  async stunServer(args: { options: StunServerOptions }): Promise<{ id: number; port: number }> {
    const server = await StunServer.start({ host: '127.0.0.1', udp: false, ...args.options });
    const id = nextId++;
    stunServers.set(id, server);
    return { id, port: server.primary.port };
  },

  async stunServerClose(args: { id: number }): Promise<void> {
    const server = stunServers.get(args.id);
    stunServers.delete(args.id);
    await server?.close();
  },

  /** `count` probes, `concurrency` at a time, each with its own connection and `timeoutMs`. */
  async stunProbe(args: {
    port: number;
    count: number;
    concurrency: number;
    timeoutMs: number;
  }): Promise<ProbeSummary> {
    const ms: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < args.count) {
        next++;
        const t = await probeOnce(args.port, args.timeoutMs);
        if (t !== undefined) ms.push(t);
      }
    };
    await Promise.all(Array.from({ length: args.concurrency }, worker));
    return { total: args.count, answered: ms.length, ms };
  },

  closeAll(): void {
    for (const [id, h] of agents) {
      agents.delete(id);
      h.agent.close();
    }
  },

  /** `gc: false` for samples taken during a measured round: a forced collection stalls the loop. */
  stats(args: { gc?: boolean }): HostStats {
    if (args.gc !== false) (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    const loopDelayMaxMs = Math.round(loopDelay.max / 1e6);
    loopDelay.reset();
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      loopDelayMaxMs,
      fds: readdirSync('/proc/self/fd').length,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      agents: agents.size,
      agentErrors: { ...errorCounts },
    };
  },

  /** The agent's own stats (pairs, checks sent and received). */
  agentStats(args: { id: number }): unknown {
    return hosted(args.id).agent.getStats();
  },

  /** `fd -> target` of every open fd (a TCP socket with its ports and state), to name what leaked. */
  fdList(): string[] {
    const tcp = tcpSockets();
    return readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        return [`${fd}->${inode ? (tcp.get(inode) ?? target) : target}`];
      } catch {
        return [];
      }
    });
  },

  errors(args: { id: number }): string[] {
    return hosted(args.id).errors;
  },
});
