/**
 * Two `ice-tcp connect` processes in a NAT lab the way a user runs them: both started at once, each one's `a=`
 * lines handed to the other as they are printed (trickle), not after gathering. Optionally a neighbour host
 * behind natA opens connections through the NAT at a steady rate the whole time (background flows that take
 * ports of a sequential NAT while the agents measure its step).
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { ReportedEndpoint } from '../nat/cli-in-netns.js';
import { STUN_ALT_PORT, STUN_PORT, startStunServer } from '../nat/run-cell.js';
import { createLab, type LabOptions } from './lab.js';
import { addLanNeighbour, type LanNeighbour } from './lab-neighbour.js';
import { cliCommand, LinePeer } from './line-peer.js';

/** What one trickled run did. */
export interface TrickleResult {
  outcome: 'direct' | 'relay' | 'failed';
  /** `local/remote` of the selected pair from each side, e.g. `host so/srflx so predicted=sequential`. */
  pairA?: string;
  pairB?: string;
  /** hostA's time from the peer's parameters to connected, ms. */
  connectedMs?: number;
  /** The error lines of whichever side failed. */
  detail?: string;
  /** hostA's description lines (`a=` lines), as it printed them. */
  linesA: string[];
  /** Both CLIs' stderr (their `DEBUG` logs when `env` asks for them). */
  stderr?: { a: string; b: string };
}

/** Options of {@link runTrickle}. */
export interface TrickleOptions {
  /** `connect --timeout` in seconds. */
  timeoutS: number;
  /**
   * New connections per second a neighbour host behind natA opens to the server while hostA gathers (from
   * before hostA starts until it prints its first sequentially predicted candidate); 0: none.
   */
  backgroundRate?: number;
  /**
   * Hold hostB's lines back from hostA until hostA prints its first `srflx so` candidate, then hand them all
   * over: the peer's candidates then reach hostA just as it starts measuring its NAT (the worst moment of a
   * trickle), instead of whenever the two processes' start-up happens to put them.
   */
  bToAAtSrflx?: boolean;
  /** Extra environment of both CLIs (e.g. DEBUG). */
  env?: NodeJS.ProcessEnv;
}

function describe(value: unknown): string {
  const e = value as ReportedEndpoint & { predicted?: string };
  return `${e.type} ${e.tcptype}${e.predicted ? ` predicted=${e.predicted}` : ''}`;
}

/** `ice-tcp <args>` from source inside `namespace` (`ip netns exec` execs in place: kill() reaches node). */
function cliIn(namespace: string, args: string[], env?: NodeJS.ProcessEnv): LinePeer {
  const [node, argv] = cliCommand(args);
  return new LinePeer('ip', ['netns', 'exec', namespace, node, ...argv], { env });
}

/**
 * Hands every description line `from` prints (everything but its JSON events) to `to` as it comes, or, while
 * `gate` is given and not yet open, keeps them until it opens.
 */
function forwardLines(from: LinePeer, to: LinePeer, gate?: Promise<void>): void {
  let open = gate === undefined;
  const held: string[] = [];
  const write = (line: string) => {
    if (!to.child.stdin!.destroyed) to.child.stdin!.write(`${line}\n`);
  };
  void gate?.then(() => {
    open = true;
    for (const line of held.splice(0)) write(line);
  });
  createInterface({ input: from.child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) return;
    if (open) write(line);
    else held.push(line);
  });
}

/** Resolves when `peer` prints a line that matches `pattern`. */
function printed(peer: LinePeer, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    createInterface({ input: peer.child.stdout! }).on('line', (line) => {
      if (pattern.test(line)) resolve();
    });
  });
}

/**
 * Builds a fresh lab, starts both peers at once with trickled lines, waits until both are done or failed, and
 * tears everything down.
 */
export async function runTrickle(labOptions: LabOptions, options: TrickleOptions): Promise<TrickleResult> {
  const lab = await createLab(labOptions);
  const peers: LinePeer[] = [];
  let neighbour: LanNeighbour | undefined;
  try {
    await startStunServer(lab);
    const server = `${lab.server.address}:${STUN_PORT}`;
    // to the other STUN port: a neighbour's 5-tuple must never equal one of our probes' when the NAT's port
    // cycle comes round (the lab's sequential NAT then drops the SYN; a real one would skip the port)
    const background = `${lab.server.address}:${STUN_ALT_PORT}`;
    if (options.backgroundRate) neighbour = await addLanNeighbour(lab, background, options.backgroundRate);
    const common = ['--stun', server, '--timeout', String(options.timeoutS)];
    const bytes = ['--send-bytes', '4096', '--expect-bytes', '4096'];
    const { hostA, hostB } = lab.hosts;
    const args = (role: string, address: string) => ['connect', role, '--bind', address, ...common, ...bytes];
    const a = cliIn(hostA.namespace, args('--controlling', hostA.address), options.env);
    const b = cliIn(hostB.namespace, args('--controlled', hostB.address), options.env);
    peers.push(a, b);
    const linesA: string[] = [];
    createInterface({ input: a.child.stdout! }).on('line', (line) => {
      if (line.startsWith('a=')) linesA.push(line);
    });
    forwardLines(a, b);
    forwardLines(b, a, options.bToAAtSrflx ? printed(a, / typ srflx .*tcptype so\b/) : undefined);
    const n = neighbour;
    if (n) {
      // background flows during the measurement: they must not also take every predicted port afterwards
      createInterface({ input: a.child.stdout! }).on('line', (line) => {
        if (line.includes('x-ice-tcp-predicted sequential') || line.startsWith('a=end-of-candidates'))
          void n.stop();
      });
    }
    const limitMs = options.timeoutS * 1000 + 15_000;
    const outcomes = await Promise.all(
      [a, b].map((p) =>
        p.waitFor('done', limitMs).then(
          () => undefined,
          (err: Error) => err.message,
        ),
      ),
    );
    const stderr = { a: a.stderr, b: b.stderr };
    const [connectedA, connectedB] = await Promise.all(
      [a, b].map((p) => p.waitFor('connected', 1).catch(() => undefined)),
    );
    if (outcomes.some((o) => o !== undefined) || !connectedA || !connectedB) {
      return {
        outcome: 'failed',
        detail: outcomes.filter((o) => o !== undefined).join('\n'),
        linesA,
        stderr,
      };
    }
    const pairA = `${describe(connectedA.local)}/${describe(connectedA.remote)}`;
    const pairB = `${describe(connectedB.local)}/${describe(connectedB.remote)}`;
    return {
      outcome: `${pairA} ${pairB}`.includes('relay') ? 'relay' : 'direct',
      pairA,
      pairB,
      connectedMs: Number(connectedA.elapsedMs),
      linesA,
      stderr,
    };
  } finally {
    for (const p of peers) p.kill();
    await Promise.all(peers.map((p) => p.exited()));
    await neighbour?.stop();
    await lab.destroy();
  }
}

/** Runs `runs` fresh labs one after the other and counts the direct connections. */
export async function countDirect(
  labOptions: LabOptions,
  runs: number,
  options: TrickleOptions,
): Promise<{ direct: number; runs: number; results: TrickleResult[]; wallMs: number }> {
  const started = performance.now();
  const results: TrickleResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await runTrickle(labOptions, options));
  return {
    direct: results.filter((r) => r.outcome === 'direct').length,
    runs,
    results,
    wallMs: performance.now() - started,
  };
}
