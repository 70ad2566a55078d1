/**
 * A child process of bench/scale.ts (run by it over IPC, never by hand): `server` holds N controlled passive
 * agents, on one IceTcpMux port (`mux`) or each on a port of its own (`ports`); `client` holds N controlling
 * active agents that connect to them. Both keep consent running until told to close.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { format } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import createDebug from 'debug';
import type { IceAgentOptions } from '../src/index.js';

/**
 * `dist`: the library as published (`npm run build` first), as a user's server runs it. `src` runs the sources
 * through tsx, whose esbuild `keepNames` redefines the name of every function created (each arrow-function field
 * of every object): ~5 KB more heap per session.
 */
const DIST = '../dist/index.js'; // not a literal import: type-checking must not need a build
const lib: typeof import('../src/index.js') =
  process.env.SCALE_LIB === 'dist' ? await import(DIST) : await import('../src/index.js');
const { IceAgent, IceTcpMux } = lib;
type IceAgent = InstanceType<typeof IceAgent>;
type IceTcpMux = InstanceType<typeof IceTcpMux>;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Messages from the orchestrator. */
export type ToPeer =
  | { type: 'create'; descriptions?: string[][] }
  | { type: 'answers'; descriptions: string[][] }
  | { type: 'go'; concurrency: number }
  | { type: 'measure' }
  | { type: 'settle' }
  | { type: 'close' };

/** A resource snapshot of this process. */
export interface Usage {
  rss: number;
  heapUsed: number;
  /** V8's heap as committed (used + free pages it keeps). */
  heapTotal: number;
  /** Memory outside the V8 heap that JS objects own (Buffers, sockets' native parts that report it). */
  external: number;
  /** Committed size of V8's young generation: it grows with the allocation rate, not with the sessions held. */
  newSpace: number;
  fds: number;
  cpuSeconds: number;
}

const [role, mode, consentArg] = process.argv.slice(2);
const consentIntervalMs = Number(consentArg ?? 2000);
const timeoutMs = Number(process.argv[6] ?? 2500);
const agents: IceAgent[] = [];
let mux: IceTcpMux | undefined;
let failures = 0;
/** The first few reasons, to say why sessions failed. */
const reasons: string[] = [];
function failed(error: unknown): void {
  failures++;
  const key = `${(error as { code?: string }).code}: ${(error as Error).message.replace(/\d+/g, 'N')}`;
  why[key] = (why[key] ?? 0) + 1;
  if (reasons.length < 3) reasons.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
}
/**
 * SCALE_WHY=1: why each failed session's pairs failed, counted from the checklist's failure summary, and the
 * inbound connections reset unauthenticated (debug lines of `ice-tcp:checklist` and `ice-tcp:transport:inbound`;
 * every other line of those is formatted and dropped, which costs CPU).
 */
const why: Record<string, number> = {};
if (process.env.SCALE_WHY) {
  createDebug.enable('ice-tcp:checklist,ice-tcp:transport:inbound');
  createDebug.log = (...args: unknown[]) => {
    const line = format(...args); // debug leaves %s and %d to its log function
    const summary = / {2}pair .*\]: (.*); \d+ check\(s\) sent, (\d+) received/.exec(line);
    const inbound = /not released within|cap of \d+ reached/.exec(line);
    if (inbound) why[`inbound: ${inbound[0]}`] = (why[`inbound: ${inbound[0]}`] ?? 0) + 1;
    if (summary) {
      const key = `${summary[1]}, ${summary[2] === '0' ? 'none' : 'some'} received`;
      why[key] = (why[key] ?? 0) + 1;
    }
  };
}
const connectedAt: number[] = [];
/** Client: the server's description of each session, applied at 'go'. */
const offers: string[][] = [];
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

function send(message: object): void {
  process.send?.(message);
}

function usage(): Usage {
  gc();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    newSpace: getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0,
    fds: readdirSync('/proc/self/fd').length,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

function agentOptions(i: number): IceAgentOptions {
  const common = {
    addresses: ['127.0.0.1'],
    consentIntervalMs,
    connectTimeoutMs: 600_000, // a loaded machine takes minutes over 10,000 (the run asks the server, it does not wait)
    checkTimeoutMs: timeoutMs,
    unauthenticatedTimeoutMs: timeoutMs,
  };
  // clients come from many addresses, as on the Internet: 250 loopback ones (127.0.2.x)
  const from = `127.0.2.${1 + (i % 250)}`;
  if (role === 'client') return { ...common, addresses: [from], role: 'controlling', tcpTypes: ['active'] };
  // A server learns each client's answer as that client arrives; here every answer lands before the first client
  // dials, so the server must not give up on the last clients while the first ones connect.
  const patient = { passiveGraceMs: 600_000 }; // the largest allowed
  return { ...common, ...patient, role: 'controlled', tcpTypes: ['passive'], ...(mux ? { mux } : {}) };
}

/** Runs `work` over `items` with at most `limit` in flight (binding thousands of ports at once stalls the loop). */
async function inBatches<T>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
}

async function create(count: number, descriptions?: string[][]): Promise<string[][]> {
  const out: string[][] = [];
  const list = descriptions ?? Array.from({ length: count }, () => undefined);
  await inBatches(list, 200, async (remote, i) => {
    const agent = new IceAgent(agentOptions(i));
    agent.on('error', () => undefined);
    agents[i] = agent;
    // the client's checks start once it has the server's description: at 'go', not while agents are created
    if (remote) offers[i] = remote;
    await agent.gather();
    out[i] = agent.localDescription();
  });
  return out;
}

function watchServer(): void {
  const start = performance.now();
  for (const agent of agents) agent.connect().then(() => connectedAt.push(performance.now() - start), failed);
}

/**
 * The server's sessions once the client is done: those whose client gave up would otherwise keep the run waiting
 * for their connectTimeoutMs; they count as failed (`pending`), as do those the server failed itself.
 */
function settle(): void {
  const pending = agents.length - connectedAt.length - failures;
  send({
    type: 'settled',
    failures: failures + pending,
    pending,
    connected: connectedAt.length,
    reasons,
    why,
  });
}

/** Sessions a client starts per loop turn (a real server's clients are separate machines, arriving at a rate). */
const STARTS_PER_TURN = 8;
const startQueue: Array<() => void> = [];
let startDrain = false;

/** Resolves in a loop turn of its own with at most STARTS_PER_TURN others. */
function startSlot(): Promise<void> {
  return new Promise((resolve) => {
    startQueue.push(resolve);
    if (startDrain) return;
    startDrain = true;
    const drain = () => {
      for (const next of startQueue.splice(0, STARTS_PER_TURN)) next();
      startDrain = startQueue.length > 0;
      if (startDrain) setImmediate(drain);
    };
    setImmediate(drain);
  });
}

async function go(concurrency: number): Promise<void> {
  lag.reset(); // the connect phase's stalls, not the set-up's
  const start = performance.now();
  const times: number[] = [];
  await inBatches(agents, concurrency, async (agent, i) => {
    // a few sessions per loop turn: 1,000 lanes each awaiting its own setImmediate all ran in one check phase and
    // stalled this process for seconds (2.9 s in a profile at 10,000), and the answers to the server's checks with it
    await startSlot();
    const t0 = performance.now();
    try {
      agent.setRemoteDescription(offers[i] as string[]);
      await agent.connect();
      times.push(performance.now() - t0);
    } catch (error) {
      failed(error);
    }
  });
  send({
    type: 'done',
    totalMs: performance.now() - start,
    times,
    failures,
    reasons,
    maxLagMs: Math.round(lag.max / 1e6),
    why,
  });
}

function measure(): void {
  const states: Record<string, number> = {};
  let consentAnswered = 0;
  for (const a of agents) {
    states[a.state] = (states[a.state] ?? 0) + 1;
    consentAnswered += a.getStats().consentChecksAnswered;
  }
  const maxLagMs = Math.round(lag.max / 1e6);
  // SCALE_HEAP=DIR: the server's heap while the sessions are held (see what a session keeps alive)
  if (process.env.SCALE_HEAP && role === 'server')
    writeHeapSnapshot(`${process.env.SCALE_HEAP}/server-${mode}-${agents.length}.heapsnapshot`);
  send({ type: 'usage', usage: usage(), states, consentAnswered, mux: mux?.counters, maxLagMs });
}

async function close(): Promise<void> {
  for (const a of agents) a.close();
  await mux?.close();
  // process.exit() would skip writing a --cpu-prof profile; every handle is closed, so the loop ends
  process.disconnect?.();
}

async function handle(message: ToPeer): Promise<void> {
  if (message.type === 'create') {
    const descriptions = await create(Number(process.argv[5] ?? 0), message.descriptions);
    send({ type: 'created', descriptions });
  } else if (message.type === 'answers') {
    for (const [i, d] of message.descriptions.entries()) agents[i]?.setRemoteDescription(d);
    watchServer();
    lag.reset(); // the connect phase's stalls, not those of creating and applying 10,000 descriptions
    send({ type: 'applied' });
  } else if (message.type === 'go') await go(message.concurrency);
  else if (message.type === 'measure') measure();
  else if (message.type === 'settle') settle();
  else if (message.type === 'close') await close();
}

process.on('message', (message: ToPeer) => void handle(message));

if (role === 'server' && mode === 'mux') {
  mux = new IceTcpMux({ host: '127.0.0.1', port: 0, firstRequestTimeoutMs: timeoutMs });
  await mux.listen();
}
send({ type: 'ready', port: mux?.address().port, baseline: usage() });
