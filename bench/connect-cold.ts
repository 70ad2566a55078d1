/**
 * The first connect of a fresh process against the next one: what a new `ice-tcp connect` pays on its path to
 * connected for code that runs for the first time (lazy compilation, first-use crypto and RegExp set-up). Each
 * run is a fresh child process holding two agents on 127.0.0.1: it gathers both, times a connect (cold), closes
 * them and does it again with two new agents (warm). CPU time (`process.cpuUsage`, both agents, from setting
 * the remote candidates to both `connect()`s resolved) is the figure to trust on a loaded machine; wall time is
 * printed too. `--versus DIR` alternates runs with another checkout's `src/` (a before/after in one run).
 * `--warm-up` runs the CLI's warm-up (src/agent/warm-up.ts) before the cold connect, outside the timing.
 * Run: npx tsx bench/connect-cold.ts [--runs 9] [--warm-up] [--versus /path/to/other/checkout]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Candidate, IceAgent as IceAgentType } from '../src/index.js';
import { median } from './support.js';

/** One connect: both agents' CPU and the wall time, ms. */
interface Timing {
  cpuMs: number;
  wallMs: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function connectOnce(IceAgent: typeof IceAgentType): Promise<Timing> {
  const alice = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlling' });
  const bob = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlled' });
  const gathered = async (agent: IceAgentType) => {
    const found: Candidate[] = [];
    agent.on('candidate', (c) => c && found.push(c));
    await agent.gather();
    return found;
  };
  try {
    const [ca, cb] = await Promise.all([gathered(alice), gathered(bob)]);
    const cpu0 = cpuMs();
    const t0 = performance.now();
    const both = Promise.all([alice.connect(), bob.connect()]);
    alice.setRemoteParameters(bob.localParameters);
    bob.setRemoteParameters(alice.localParameters);
    for (const c of cb) alice.addRemoteCandidate(c);
    for (const c of ca) bob.addRemoteCandidate(c);
    alice.addRemoteCandidate(null);
    bob.addRemoteCandidate(null);
    await both;
    return { cpuMs: cpuMs() - cpu0, wallMs: performance.now() - t0 };
  } finally {
    alice.close();
    bob.close();
  }
}

/** The child: a cold connect, then a warm one, as one JSON line. */
async function child(root: string, warmUp: boolean): Promise<void> {
  const { IceAgent } = (await import(`${root}/src/index.ts`)) as typeof import('../src/index.js');
  // what the CLI runs while it waits for the peer's lines (a checkout without it has nothing to warm)
  if (warmUp) {
    const m = (await import(`${root}/src/agent/warm-up.ts`).catch(() => undefined)) as
      | typeof import('../src/agent/warm-up.js')
      | undefined;
    m?.warmUpCheckPath();
  }
  const cold = await connectOnce(IceAgent);
  await new Promise((r) => setTimeout(r, 20));
  const warm = await connectOnce(IceAgent);
  console.log(JSON.stringify({ cold, warm }));
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    versus: { type: 'string' },
    child: { type: 'string' },
    'warm-up': { type: 'boolean', default: false },
  },
});
if (values.child) {
  await child(values.child, values['warm-up'] === true);
  process.exit(0);
}

const here = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const roots = values.versus ? [here, values.versus] : [here];
const results = new Map<string, Array<{ cold: Timing; warm: Timing }>>(roots.map((r) => [r, []]));
const load = [loadavg()[0] ?? 0];
for (let i = 0; i < Number(values.runs); i++) {
  for (const root of roots) {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        root,
        ...(values['warm-up'] ? ['--warm-up'] : []),
      ],
      {
        cwd: here,
        encoding: 'utf8',
      },
    );
    results.get(root)?.push(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'));
  }
}
load.push(loadavg()[0] ?? 0);
const r1 = (v: number) => Math.round(v * 10) / 10;
const summary = Object.fromEntries(
  [...results].map(([root, rs]) => [
    root,
    {
      runs: rs.length,
      coldCpuMs: r1(median(rs.map((r) => r.cold.cpuMs))),
      warmCpuMs: r1(median(rs.map((r) => r.warm.cpuMs))),
      firstUseCpuMs: r1(median(rs.map((r) => r.cold.cpuMs - r.warm.cpuMs))),
      coldWallMs: r1(median(rs.map((r) => r.cold.wallMs))),
      warmWallMs: r1(median(rs.map((r) => r.warm.wallMs))),
    },
  ]),
);
console.log(JSON.stringify({ loadAverage: load.map(r1), results: summary }, null, 2));
