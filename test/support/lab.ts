/**
 * The NAT lab: real Linux NATs made of network namespaces and nftables (see docs/ARCHITECTURE.md, "The NAT lab").
 *
 *   hostA 10.0.1.2 ── lan 10.0.1.1 [natA] wan 203.0.113.1 ──┐
 *                                                           ├── br0 (public 203.0.113.0/24) ── server .10, .11
 *   hostB 10.0.2.2 ── lan 10.0.2.1 [natB] wan 203.0.113.2 ──┘
 *
 * Same-NAT mode puts hostB at 10.0.1.3 on natA's LAN bridge (no natB). A side in 'public' mode has its host
 * straight on the public segment (hostA 203.0.113.21, hostB 203.0.113.22) and no NAT. With `rttMs`, each
 * side's link to br0 runs through a userspace delay line (fixtures/delay-line.py) in a namespace of its own.
 * A side with `cgn` puts a carrier NAT (cgnA/cgnB, 100.64.<n>.1 inside, the public WAN outside) between its
 * NAT and br0. The NAT kinds and their rulesets are in nat-rules.ts.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DelayLineChild, type DelayLineStats, readyDelayLine } from './delay-line-child.js';
import { type LabNat, type NatOptions, natRuleset, resolveNat } from './nat-rules.js';
import {
  bridgeTokens,
  deleteNamespaces,
  deleteNamespacesSync,
  execIn,
  IpBatch,
  listNamespaces,
  loadNftRuleset,
  setSysctls,
  spawnIn,
  vethTokens,
} from './netns.js';

export type { LabNat, NatFiltering, NatMapping, NatOptions } from './nat-rules.js';
export { natRuleset } from './nat-rules.js';

/** One side of the lab: a host behind a NAT with these options, or a host on the public segment. */
export type LabSide = NatOptions | 'public';

/** Options of {@link createLab}. */
export interface LabOptions {
  /** hostA's side; default a preserve/drop NAT. */
  a?: LabSide;
  /** hostB's side; default a preserve/drop NAT. Must be unset in same-NAT mode. */
  b?: LabSide;
  /** Put hostB (10.0.1.3) behind natA, on hostA's LAN, and build no natB. */
  sameNat?: boolean;
  /**
   * Same-NAT mode only: client isolation on natA's LAN (as on many Wi-Fi access points): the LAN bridge
   * forwards nothing between hostA and hostB, so they reach each other only through natA (hairpinning).
   */
  lanIsolation?: boolean;
  /**
   * Round-trip time added between hostA and hostB (ms, default 0): the link of each side to the public
   * segment (a NAT's WAN, or a public host's own link) goes through a userspace delay line that holds every
   * frame `rttMs / 4` each way, so hostA↔hostB gets `rttMs` and a host↔server `rttMs / 2`. Needs `ethtool`
   * (offloads off on every lab device, the delay line forwards whole frames) and `/usr/bin/python3`.
   */
  rttMs?: number;
}

/** Names of the machines of a lab that commands can run on. */
export type LabNode = 'server' | 'hostA' | 'hostB' | 'natA' | 'natB' | 'cgnA' | 'cgnB' | 'public';

/** A host of the lab. */
export interface LabHost {
  /** Its network namespace. */
  readonly namespace: string;
  /** Its IPv4 address (private behind a NAT, public in 'public' mode). */
  readonly address: string;
  /** The NAT it sits behind, or undefined on the public segment. */
  readonly nat: 'natA' | 'natB' | undefined;
}

/** The STUN/TURN server host of the lab, on the public segment. */
export interface LabServer {
  readonly namespace: string;
  /** 203.0.113.10. */
  readonly address: string;
  /** 203.0.113.11, on the same interface, for RFC 5780 tests. */
  readonly alternateAddress: string;
}

/** A running lab; `destroy()` it when done. */
export interface Lab {
  /** Prefix of every namespace name of this lab. */
  readonly prefix: string;
  /** Milliseconds {@link createLab} took. */
  readonly bringUpMs: number;
  readonly server: LabServer;
  readonly natA: LabNat | undefined;
  readonly natB: LabNat | undefined;
  readonly hosts: { readonly hostA: LabHost; readonly hostB: LabHost };
  /** The namespace of each machine that exists. */
  readonly namespaces: Readonly<Partial<Record<LabNode, string>>>;
  /** Runs a command on `node`, resolves with its stdout, rejects on a non-zero exit. */
  exec(node: LabNode, cmd: string, args: readonly string[], input?: string): Promise<string>;
  /** What each delay line measured so far (none without `rttMs`). */
  delayLineStats(): Promise<DelayLineStats[]>;
  /** Spawns a command on `node`; the lab kills it on `destroy()`. */
  spawn(node: LabNode, cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Kills what the lab spawned and deletes its namespaces; safe to call twice. */
  destroy(): Promise<void>;
}

/** Public segment. */
const SERVER = '203.0.113.10';
const SERVER_ALT = '203.0.113.11';
const PUBLIC_HOST = { hostA: '203.0.113.21', hostB: '203.0.113.22' } as const;
const NAT_LAN_NET = { natA: '10.0.1', natB: '10.0.2' } as const;

let counter = 0;

/** The delay line the lab runs on each side's public link when `rttMs` is set. */
const DELAY_LINE_SCRIPT = fileURLToPath(new URL('./fixtures/delay-line.py', import.meta.url));

/** pid + counter: unique among live processes, and short enough for 15-character names. */
function nextPrefix(): string {
  counter += 1;
  return `il${process.pid.toString(36)}${counter.toString(36)}`;
}

/** What to build, before building anything. */
interface Plan {
  prefix: string;
  /** One-way delay of each side's link to the public segment (0: a plain veth). */
  delayMs: number;
  pub: string;
  server: LabServer;
  natA: LabNat | undefined;
  natB: LabNat | undefined;
  hostA: LabHost;
  hostB: LabHost;
  lanIsolation: boolean;
}

/** Refuses contradictory options before anything is built. */
function checkOptions(options: LabOptions, rttMs: number): void {
  if (!(rttMs >= 0 && rttMs <= 2000)) throw new Error(`lab: rttMs must be within 0..2000, got ${rttMs}`);
  if (options.sameNat && options.b !== undefined) throw new Error('lab: same-NAT mode takes no `b` side');
  if (options.sameNat && options.a === 'public')
    throw new Error('lab: same-NAT mode needs a NAT on side `a`');
  if (options.lanIsolation && !options.sameNat) throw new Error('lab: lanIsolation needs same-NAT mode');
}

function plan(options: LabOptions): Plan {
  const prefix = nextPrefix();
  const rttMs = options.rttMs ?? 0;
  checkOptions(options, rttMs);
  const a = options.a ?? {};
  const b = options.sameNat ? 'public' : (options.b ?? {});
  const natA = a === 'public' ? undefined : resolveNat(a, 'natA', prefix);
  const natB = b === 'public' || options.sameNat ? undefined : resolveNat(b, 'natB', prefix);
  const hostA: LabHost = {
    namespace: `${prefix}hostA`,
    address: natA ? `${NAT_LAN_NET.natA}.2` : PUBLIC_HOST.hostA,
    nat: natA ? 'natA' : undefined,
  };
  let hostB: LabHost;
  if (options.sameNat) hostB = { namespace: `${prefix}hostB`, address: `${NAT_LAN_NET.natA}.3`, nat: 'natA' };
  else if (natB) hostB = { namespace: `${prefix}hostB`, address: `${NAT_LAN_NET.natB}.2`, nat: 'natB' };
  else hostB = { namespace: `${prefix}hostB`, address: PUBLIC_HOST.hostB, nat: undefined };
  return {
    prefix,
    delayMs: rttMs / 4,
    pub: `${prefix}pub`,
    server: { namespace: `${prefix}server`, address: SERVER, alternateAddress: SERVER_ALT },
    natA,
    natB,
    hostA,
    hostB,
    lanIsolation: options.lanIsolation ?? false,
  };
}

function allNamespaces(p: Plan): Partial<Record<LabNode, string>> {
  const out: Partial<Record<LabNode, string>> = {
    public: p.pub,
    server: p.server.namespace,
    hostA: p.hostA.namespace,
    hostB: p.hostB.namespace,
  };
  if (p.natA) out.natA = p.natA.namespace;
  if (p.natB) out.natB = p.natB.namespace;
  if (p.natA?.cgn) out.cgnA = p.natA.cgn.namespace;
  if (p.natB?.cgn) out.cgnB = p.natB.cgn.namespace;
  return out;
}

/**
 * Builds the whole lab in three steps: one root `ip -batch` creates every namespace, bridge and veth
 * (each created straight inside its namespace), then one `ip -n <ns> -batch` per namespace plus the
 * sysctls and one `nft -f` per router run in parallel, then it waits until every link carries traffic.
 */
async function build(p: Plan): Promise<void> {
  const ns = allNamespaces(p);
  const root = new IpBatch();
  for (const name of Object.values(ns)) root.add('netns', 'add', name);
  root.add(...bridgeTokens(p.pub, 'br0'));
  root.add(...vethTokens(p.server.namespace, 'eth0', p.pub, 'server'));
  const perNs = new Map<string, IpBatch>();
  const batch = (name: string): IpBatch => {
    let b = perNs.get(name);
    if (!b) {
      b = new IpBatch(name).add('link', 'set', 'lo', 'up');
      perNs.set(name, b);
    }
    return b;
  };
  const tasks: (() => Promise<void>)[] = [];
  const pubPorts = ['server'];

  batch(p.server.namespace)
    .add('addr', 'add', `${SERVER}/24`, 'dev', 'eth0')
    .add('addr', 'add', `${SERVER_ALT}/24`, 'dev', 'eth0')
    .add('link', 'set', 'eth0', 'up');

  for (const nat of [p.natA, p.natB]) {
    if (!nat) continue;
    const port = nat === p.natA ? 'natA' : 'natB';
    pubPorts.push(port);
    tasks.push(...buildNat(p, root, batch, nat, port));
  }

  for (const [key, host] of [
    ['hostA', p.hostA],
    ['hostB', p.hostB],
  ] as const) {
    const nat = host.nat === 'natA' ? p.natA : host.nat === 'natB' ? p.natB : undefined;
    const b = batch(host.namespace)
      .add('addr', 'add', `${host.address}/24`, 'dev', 'eth0')
      .add('link', 'set', 'eth0', 'up');
    if (nat) {
      root.add(...vethTokens(host.namespace, 'eth0', nat.namespace, key));
      batch(nat.namespace).add('link', 'set', key, 'master', 'lan').add('link', 'set', key, 'up');
      b.add('route', 'add', 'default', 'via', nat.lan);
    } else {
      publicLink(p, root, batch, host.namespace, 'eth0', key);
      pubPorts.push(key);
    }
  }

  const pub = batch(p.pub).add('link', 'set', 'br0', 'up');
  for (const port of pubPorts) pub.add('link', 'set', port, 'master', 'br0').add('link', 'set', port, 'up');
  tasks.push(() => setSysctls(p.pub, { 'net.bridge.bridge-nf-call-iptables': 0 }));

  await root.run();
  await Promise.all([...tasks.map((task) => task()), ...[...perNs.values()].map((b) => b.run())]);
  await Promise.all([...perNs.keys()].map((name) => waitLinksReady(name)));
  if (p.delayMs > 0) await Promise.all([...perNs.keys()].map((name) => offloadsOff(name)));
}

/** A bridge-family ruleset for client isolation on natA's LAN: nothing is switched between the two hosts. */
const LAN_ISOLATION = `table bridge lab_isolation {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname { "hostA", "hostB" } oifname { "hostA", "hostB" } drop
  }
}
`;

/**
 * Queues one NAT router (and its carrier NAT) into the batches: its LAN bridge, its WAN on the public segment
 * as `port` or on a link of its own to the carrier NAT, whose WAN is then `port`. Returns the router tasks.
 */
function buildNat(
  p: Plan,
  root: IpBatch,
  batch: (name: string) => IpBatch,
  nat: LabNat,
  port: string,
): (() => Promise<void>)[] {
  const router = (r: LabNat, extraRules = ''): (() => Promise<void>)[] => [
    () => setSysctls(r.namespace, { 'net.ipv4.ip_forward': 1, 'net.bridge.bridge-nf-call-iptables': 0 }),
    () => loadNftRuleset(r.namespace, natRuleset(r) + extraRules),
  ];
  const tasks = router(nat, p.lanIsolation && nat === p.natA ? LAN_ISOLATION : '');
  root.add(...bridgeTokens(nat.namespace, 'lan'));
  batch(nat.namespace)
    .add('addr', 'add', `${nat.wan}/24`, 'dev', 'wan')
    .add('addr', 'add', `${nat.lan}/24`, 'dev', 'lan')
    .add('link', 'set', 'wan', 'up')
    .add('link', 'set', 'lan', 'up');
  const { cgn } = nat;
  if (!cgn) {
    publicLink(p, root, batch, nat.namespace, 'wan', port);
    return tasks;
  }
  publicLink(p, root, batch, cgn.namespace, 'wan', port);
  root.add(...vethTokens(nat.namespace, 'wan', cgn.namespace, 'lan'));
  batch(cgn.namespace)
    .add('addr', 'add', `${cgn.wan}/24`, 'dev', 'wan')
    .add('addr', 'add', `${cgn.lan}/24`, 'dev', 'lan')
    .add('link', 'set', 'wan', 'up')
    .add('link', 'set', 'lan', 'up');
  // the route to the public segment is on the carrier NAT's far side now
  batch(nat.namespace).add('route', 'add', 'default', 'via', cgn.lan);
  return [...tasks, ...router(cgn)];
}

/** The delay line's namespace on the link from `port`'s machine to the public segment. */
function delayNamespace(p: Plan, port: string): string {
  return `${p.prefix}d${port.slice(-1)}`;
}

/**
 * Links `dev` of `ns` to the public bridge as port `port`: a plain veth, or with a delay, two veths through a
 * namespace of its own (`near` faces the machine, `far` the bridge) where {@link startDelayLines} forwards.
 */
function publicLink(
  p: Plan,
  root: IpBatch,
  batch: (name: string) => IpBatch,
  ns: string,
  dev: string,
  port: string,
): void {
  if (p.delayMs === 0) {
    root.add(...vethTokens(ns, dev, p.pub, port));
    return;
  }
  const delayNs = delayNamespace(p, port);
  root.add('netns', 'add', delayNs);
  root.add(...vethTokens(ns, dev, delayNs, 'near'));
  root.add(...vethTokens(delayNs, 'far', p.pub, port));
  batch(delayNs).add('link', 'set', 'near', 'up').add('link', 'set', 'far', 'up');
}

/** The delay namespaces a lab with this plan has (none without a delay). */
function delayNamespaces(p: Plan): string[] {
  if (p.delayMs === 0) return [];
  const ports = [p.natA ? 'natA' : 'hostA', p.natB ? 'natB' : p.hostB.nat ? undefined : 'hostB'];
  return ports.filter((port): port is string => port !== undefined).map((port) => delayNamespace(p, port));
}

/** Whole frames on every device of `ns`: no checksum or segmentation offload, so a delay line can copy them. */
async function offloadsOff(ns: string): Promise<void> {
  const out = await execIn(ns, 'ip', ['-o', 'link', 'show']);
  const devices = [...out.matchAll(/^\d+: ([^:@]+)[:@]/gm)]
    .map((m) => m[1] as string)
    .filter((d) => d !== 'lo');
  await Promise.all(
    devices.map((dev) =>
      execIn(ns, 'ethtool', ['-K', dev, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']),
    ),
  );
}

/** Starts one delay line per delay namespace and resolves once each is forwarding. */
function startDelayLines(p: Plan, spawnChild: (ns: string) => ChildProcess): Promise<DelayLineChild[]> {
  return Promise.all(delayNamespaces(p).map((ns) => readyDelayLine(ns, spawnChild(ns))));
}

/**
 * Resolves once every link that is up in `ns` has a carrier and a real qdisc. Until the kernel's linkwatch
 * work has run, a fresh device keeps the `noop` qdisc, which silently drops what is sent: a test's first SYN
 * would then cost a 1 s retransmission.
 */
async function waitLinksReady(ns: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const out = await execIn(ns, 'ip', ['-o', 'link', 'show', 'up']);
    const notReady = out
      .split('\n')
      .filter((l) => l.length > 0 && (l.includes('qdisc noop') || l.includes('NO-CARRIER')));
    if (notReady.length === 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`lab: links in ${ns} never became ready`);
}

const exitHooks = new Set<() => void>();
let exitHookInstalled = false;

/** One 'exit' listener for every lab of the process: the last resort when a test forgets `destroy()`. */
function registerExitHook(hook: () => void): void {
  exitHooks.add(hook);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const h of exitHooks) h();
  });
}

/** Builds a NAT lab (root, `ip` and `nft` required); on failure it tears down whatever it had built. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  const started = performance.now();
  const p = plan(options);
  const namespaces = allNamespaces(p);
  const names = [...Object.values(namespaces), ...delayNamespaces(p)];
  // A namespace with our name can only be left over by a dead process that had our pid.
  const stale = listNamespaces().filter((n) => n.startsWith(p.prefix));
  if (stale.length > 0) await deleteNamespaces(stale);

  const children = new Set<ChildProcess>();
  let delayLines: DelayLineChild[] = [];
  let destroyed = false;
  const killAll = (): void => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
  };
  const exitHook = (): void => {
    killAll();
    deleteNamespacesSync(names);
  };
  registerExitHook(exitHook);

  try {
    await build(p);
    delayLines = await startDelayLines(p, (ns) => {
      const child = spawnIn(ns, '/usr/bin/python3', [DELAY_LINE_SCRIPT, 'near', 'far', String(p.delayMs)]);
      child.stderr?.resume();
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    });
  } catch (error) {
    killAll();
    exitHooks.delete(exitHook);
    await deleteNamespaces(names).catch(() => deleteNamespacesSync(names));
    throw error;
  }

  const nsOf = (node: LabNode): string => {
    const name = namespaces[node];
    if (name === undefined) throw new Error(`lab: this lab has no ${node}`);
    return name;
  };

  return {
    prefix: p.prefix,
    bringUpMs: performance.now() - started,
    server: p.server,
    natA: p.natA,
    natB: p.natB,
    hosts: { hostA: p.hostA, hostB: p.hostB },
    namespaces,
    exec: (node, cmd, args, input) => execIn(nsOf(node), cmd, args, input),
    delayLineStats: () => Promise.all(delayLines.map((d) => d.stats())),
    spawn(node, cmd, args, spawnOptions) {
      if (destroyed) throw new Error('lab: destroyed');
      const child = spawnIn(nsOf(node), cmd, args, spawnOptions);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      const exits = [...children].map(
        (child) =>
          new Promise<void>((resolve) =>
            child.exitCode !== null || child.signalCode !== null
              ? resolve()
              : child.once('exit', () => resolve()),
          ),
      );
      killAll();
      await Promise.all(exits);
      await deleteNamespaces(names);
      exitHooks.delete(exitHook);
    },
  };
}

/** Answer of the net-probe fixture to one command. */
export interface ProbeAnswer {
  ok: boolean;
  /** 'listen': the port it listens on. */
  port?: number;
  /** 'dial': the local port used. */
  localPort?: number;
  /** 'dial': the line the far probe sent: how it saw us, `<address>:<port>`. */
  line?: string;
  /** 'dial': connect to that line, as timed inside the probe (2 round trips: the line follows the accept). */
  elapsedMs?: number;
  /** Error code on failure: ECONNREFUSED, ETIMEDOUT (our own timeout), EADDRINUSE, ... */
  code?: string;
}

/** A running `fixtures/net-probe.mjs` on one lab machine. */
export interface NetProbe {
  /** Listens on `port` (0 = any); every connection is told `<remoteAddress>:<remotePort>\n`. */
  listen(port: number, host?: string): Promise<ProbeAnswer>;
  /** Dials `host:port` (optionally from `localPort`), reads one line, then closes with RST. */
  dial(
    host: string,
    port: number,
    options?: { localPort?: number; timeoutMs?: number },
  ): Promise<ProbeAnswer>;
}

/** Path of the probe script. */
export const NET_PROBE_SCRIPT = fileURLToPath(new URL('./fixtures/net-probe.mjs', import.meta.url));

/** Starts the net-probe fixture on `node`; the lab kills it on `destroy()`. */
export async function startProbe(lab: Lab, node: LabNode): Promise<NetProbe> {
  const child = lab.spawn(node, process.execPath, [NET_PROBE_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map<number, (answer: ProbeAnswer) => void>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const error = new Error(`net-probe on ${node} exited (${code ?? signal})`);
      reject(error);
      for (const settle of pending.values()) settle({ ok: false, code: 'EPROBEEXIT' });
      pending.clear();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as ProbeAnswer & { id?: number; ready?: boolean };
      if (message.ready) resolve();
      else if (message.id !== undefined) {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    });
  });
  await ready;
  const request = (command: Record<string, unknown>): Promise<ProbeAnswer> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  return {
    listen: (port, host) => request({ op: 'listen', port, host }),
    dial: (host, port, options = {}) => request({ op: 'dial', host, port, ...options }),
  };
}
