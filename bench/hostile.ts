/**
 * Hostile-input bench (issue 8, "Prove it"): a victim agent process under attack from an attacker process while
 * a legitimate peer process connects to it, round after round, through the attacked ports. Scenarios: mutated
 * frames (1,000,000 by default), 10,000 idle connections, a one-byte drip, a flood of bad credentials.
 * Reports crashes, the legitimate connect time under attack against without (median), and the victim's RSS
 * and fds before, during (highest) and after each attack.
 *
 * The idle, drip and bad-credential floods (on the agent and on the STUN server) come from random 127.x.y.z
 * sources (many hosts, as a botnet would); one more STUN line has the idle flood share the client's address.
 * Run: bash -c 'ulimit -n 65536; npx tsx bench/hostile.ts [--short] [--seed N] [--rounds K] [--frames N]
 * [--only fuzz,idle,drip,badcreds,stun]'
 * (the idle flood holds 10,000 sockets in the attacker). The three processes share this machine's cores: on
 * 2 cores the attacker's CPU does slow the victim, so "under attack" includes CPU contention.
 * Prints a table, then one JSON line. Exits 1 when a goal is missed (crash, failed connect, fds not back).
 */
import { execFileSync } from 'node:child_process';
import { freePort } from '../test/support/coturn.js';
import type { CreatedAgent, HostStats } from '../test/support/hostile/agent-host.js';
import type { AttackSpec, AttackSummary } from '../test/support/hostile/attacker.js';
import {
  closeRound,
  connectRound,
  createTarget,
  portsOf,
  settledStats,
  startProcesses,
} from '../test/support/hostile/harness.js';
import type { ProbeSummary } from '../test/support/hostile/probes.js';
import { distinctCrashes } from '../test/support/hostile/rpc.js';
import { median } from './support.js';

function option(name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = Number(process.argv[index + 1]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

const short = process.argv.includes('--short');
const seed = option('seed') ?? Math.floor(Math.random() * 0x1_0000_0000);
const rounds = option('rounds') ?? (short ? 3 : 7);
const sizes = short
  ? { frames: 20_000, idle: 1_000, drip: 200, badcreds: 100, probes: 50 }
  : { frames: 1_000_000, idle: 10_000, drip: 1_100, badcreds: 300, probes: 300 };
/** `--only fuzz,badcreds`: run these attack scenarios (and the unattacked baseline) only; `stun` the STUN server part. */
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex < 0 ? undefined : new Set((process.argv[onlyIndex + 1] ?? '').split(','));
const wanted = (kind: string): boolean => only === undefined || only.has(kind);
const framesOption = option('frames');
if (framesOption !== undefined) sizes.frames = framesOption;
/** How long the attack may take to reach its strength before the legitimate rounds start. */
const RAMP_MS = short ? 1_500 : 8_000;

/** One scenario's figures. */
interface ScenarioResult {
  scenario: string;
  connects: number;
  failed: string[];
  medianMs: number;
  maxMs: number;
  /**
   * Median under attack / median of unattacked rounds run just before this attack (same target, same
   * moment): on a shared machine the load moves between scenarios, and a baseline from minutes earlier
   * measures that load more than the attack.
   */
  ratio: number;
  /** That adjacent unattacked median (ms), and the ratio to the run's first unattacked scenario instead. */
  adjacentBaselineMs: number;
  ratioToStart: number;
  rss: { before: number; during: number; after: number };
  /** Victim heap after a full GC, before and after the attack. */
  heap: { before: number; after: number };
  /** Largest event-loop delay of the victim during the rounds (ms). */
  loopDelayMaxMs: number;
  fds: { before: number; during: number; after: number };
  /** Victim fds open after the scenario that were not before it (fd -> socket and state). */
  fdsLeft: string[];
  crashes: number;
  /** Victim CPU time over the scenario (ms), and per attack connection (µs): less noisy than latency on a busy host. */
  victimCpuMs: number;
  cpuUsPerAttackConnection: number | undefined;
  attack: AttackSummary | undefined;
}

const p = startProcesses();
const MB = 1024 * 1024;

/** Without a GC: a forced collection would stall the loop inside the round being measured. */
async function stats(): Promise<HostStats> {
  return p.victim.call<HostStats>('stats', { gc: false });
}

/** Rounds of legitimate connects, while `attack` (if any) also aims at each round's victim agent. */
async function legitimateRounds(
  attackId: number | undefined,
  targets: CreatedAgent[],
  who: AttackSpec['who'],
  keepGoing: (done: number) => Promise<boolean>,
  peak: { rss: number; fds: number; loop: number },
): Promise<{ ms: number[]; failed: string[] }> {
  const ms: number[] = [];
  const failed: string[] = [];
  for (let done = 0; await keepGoing(done); done++) {
    const round = await connectRound(p, async (v) => {
      if (attackId === undefined) return;
      await p.attacker.call('retarget', { id: attackId, ports: portsOf(...targets, v), who });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const s = await stats();
      peak.rss = Math.max(peak.rss, s.rss);
      peak.fds = Math.max(peak.fds, s.fds);
    });
    const s = await stats();
    peak.loop = Math.max(peak.loop, s.loopDelayMaxMs);
    if (round.error) failed.push(round.error);
    else ms.push(round.ms);
    await closeRound(p, round);
  }
  return { ms, failed };
}

async function scenario(
  name: string,
  spec: Omit<AttackSpec, 'host' | 'ports' | 'who' | 'seed'> | undefined,
  baselineMs: number,
): Promise<ScenarioResult> {
  const before = await settledStats(p.victim, 1000);
  const fdsBefore = await p.victim.call<string[]>('fdList');
  const crashesBefore = p.victim.crashes.length;
  const peak = { rss: before.rss, fds: before.fds, loop: 0 };
  const target = await createTarget(p.victim, await freePort('127.0.0.1'));
  const who = { ufrag: target.ufrag };
  let adjacentBaselineMs = baselineMs;
  if (spec) {
    const unattacked = await legitimateRounds(undefined, [target], who, async (done) => done < rounds, {
      rss: 0,
      fds: 0,
      loop: 0,
    });
    adjacentBaselineMs = median(unattacked.ms);
  }
  let id: number | undefined;
  if (spec) {
    id = await p.attacker.call<number>('start', {
      ...spec,
      host: '127.0.0.1',
      ports: portsOf(target),
      who,
      seed,
    });
    const rampEnd = Date.now() + RAMP_MS;
    for (;;) {
      const s = await p.attacker.call<AttackSummary>('snapshot', { id });
      if (Date.now() >= rampEnd || (spec.kind !== 'fuzz' && s.open >= spec.concurrency)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const finished = async (): Promise<boolean> =>
    id !== undefined && (await p.attacker.call<AttackSummary>('snapshot', { id })).done;
  // The fuzz runs until its frame budget is spent; the floods for `rounds` legitimate connects.
  const { ms, failed } = await legitimateRounds(
    id,
    [target],
    who,
    async (done) => (spec?.kind === 'fuzz' ? done < rounds || !(await finished()) : done < rounds),
    peak,
  );
  const attack = id === undefined ? undefined : await p.attacker.call<AttackSummary>('stop', { id }, 60_000);
  await p.victim.call('close', { id: target.id });
  const after = await settledStats(p.victim, 1500);
  const fdsLeft = (await p.victim.call<string[]>('fdList')).filter((f) => !fdsBefore.includes(f));
  const m = median(ms);
  const victimCpuMs = after.cpuMs - before.cpuMs;
  return {
    scenario: name,
    connects: ms.length + failed.length,
    failed,
    medianMs: Math.round(m),
    maxMs: Math.round(Math.max(0, ...ms)),
    ratio: Number((m / adjacentBaselineMs).toFixed(2)),
    adjacentBaselineMs: Math.round(adjacentBaselineMs),
    ratioToStart: Number((m / baselineMs).toFixed(2)),
    rss: { before: before.rss, during: peak.rss, after: after.rss },
    heap: { before: before.heapUsed, after: after.heapUsed },
    loopDelayMaxMs: peak.loop,
    fds: { before: before.fds, during: peak.fds, after: after.fds },
    fdsLeft,
    crashes: p.victim.crashes.length - crashesBefore,
    victimCpuMs,
    cpuUsPerAttackConnection: attack?.connections
      ? Math.round((victimCpuMs * 1000) / attack.connections)
      : undefined,
    attack,
  };
}

const mb = (v: number) => (v / MB).toFixed(0);
const TABLE_HEADER =
  'scenario                      connects failed  median ms  max ms  x base (base ms, x start)  RSS MB before/peak/after  heap MB before/after  fds before/peak/after  loop ms  crashes  cpu ms  µs/conn  attack';

function row(r: ScenarioResult): string {
  const a = r.attack;
  const attack = a
    ? `${a.connections} conns, ${a.frames} frames, ${a.closedByVictim} closed by victim, ${a.refused} refused, max open ${a.maxOpen}, ${a.ms} ms`
    : '-';
  return [
    r.scenario.padEnd(29),
    String(r.connects).padStart(8),
    String(r.failed.length).padStart(6),
    String(r.medianMs).padStart(10),
    String(r.maxMs).padStart(7),
    `${r.ratio} (${r.adjacentBaselineMs}, ${r.ratioToStart})`.padStart(25),
    [r.rss.before, r.rss.during, r.rss.after].map(mb).join('/').padStart(25),
    [r.heap.before, r.heap.after].map(mb).join('/').padStart(21),
    [r.fds.before, r.fds.during, r.fds.after].join('/').padStart(22),
    String(r.loopDelayMaxMs).padStart(8),
    String(r.crashes).padStart(8),
    String(r.victimCpuMs).padStart(7),
    String(r.cpuUsPerAttackConnection ?? '-').padStart(8),
    ` ${attack}`,
  ].join(' ');
}

/** The STUN server's figures under one attack. */
interface StunResult {
  scenario: string;
  probes: number;
  answered: number;
  answeredPercent: number;
  medianMs: number;
  rss: { before: number; during: number; after: number };
  fds: { before: number; during: number; after: number };
  crashes: number;
  attack: AttackSummary | undefined;
}

/** A StunServer in the victim process, attacked, while the peer process probes it with Binding requests. */
async function stunScenario(
  name: string,
  spec: Omit<AttackSpec, 'host' | 'ports' | 'who' | 'seed'> | undefined,
): Promise<StunResult> {
  const before = await settledStats(p.victim, 1000);
  const crashesBefore = p.victim.crashes.length;
  const server = await p.victim.call<{ id: number; port: number }>('stunServer', { options: {} });
  let id: number | undefined;
  if (spec) {
    id = await p.attacker.call<number>('start', {
      ...spec,
      host: '127.0.0.1',
      ports: [server.port],
      who: {},
      seed,
    });
    const rampEnd = Date.now() + RAMP_MS;
    while (Date.now() < rampEnd) {
      const s = await p.attacker.call<AttackSummary>('snapshot', { id });
      if (s.open >= spec.concurrency) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const probing = p.peer.call<ProbeSummary>(
    'stunProbe',
    { port: server.port, count: sizes.probes, concurrency: 4, timeoutMs: 2000 },
    600_000,
  );
  const peak = { rss: before.rss, fds: before.fds };
  let finished = false;
  void probing.finally(() => {
    finished = true;
  });
  while (!finished) {
    const s = await stats();
    peak.rss = Math.max(peak.rss, s.rss);
    peak.fds = Math.max(peak.fds, s.fds);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const probes = await probing;
  const attack = id === undefined ? undefined : await p.attacker.call<AttackSummary>('stop', { id }, 60_000);
  await p.victim.call('stunServerClose', { id: server.id });
  const after = await settledStats(p.victim, 1500);
  return {
    scenario: name,
    probes: probes.total,
    answered: probes.answered,
    answeredPercent: Number(((100 * probes.answered) / probes.total).toFixed(1)),
    medianMs: Number(median(probes.ms).toFixed(1)),
    rss: { before: before.rss, during: peak.rss, after: after.rss },
    fds: { before: before.fds, during: peak.fds, after: after.fds },
    crashes: p.victim.crashes.length - crashesBefore,
    attack,
  };
}

function stunRow(r: StunResult): string {
  const a = r.attack;
  return [
    r.scenario.padEnd(29),
    `${r.answered}/${r.probes} (${r.answeredPercent} %)`.padStart(20),
    String(r.medianMs).padStart(10),
    [r.rss.before, r.rss.during, r.rss.after].map(mb).join('/').padStart(25),
    [r.fds.before, r.fds.during, r.fds.after].join('/').padStart(22),
    String(r.crashes).padStart(8),
    a
      ? ` ${a.connections} conns, ${a.closedByVictim} closed by server, max open ${a.maxOpen}, ${a.ms} ms`
      : ' -',
  ].join(' ');
}

function ulimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  } catch {
    return Number.NaN;
  }
}

try {
  const limit = ulimit();
  if (limit < sizes.idle + 1000) {
    console.error(
      `ulimit -n is ${limit}: the idle flood of ${sizes.idle} will be cut short (run under ulimit -n 65536)`,
    );
  }
  const warm = await connectRound(p);
  await closeRound(p, warm);
  const start = await settledStats(p.victim, 1000);
  const fdsAtStart = await p.victim.call<string[]>('fdList');
  const results: ScenarioResult[] = [];
  const base = await scenario('no attack', undefined, Number.NaN);
  const baselineMs = base.medianMs;
  results.push({ ...base, ratio: 1, ratioToStart: 1, adjacentBaselineMs: base.medianMs });
  if (wanted('fuzz'))
    results.push(
      await scenario(
        `fuzz ${sizes.frames} frames`,
        { kind: 'fuzz', concurrency: 100, maxFrames: sizes.frames, connectRate: 5000 },
        baselineMs,
      ),
    );
  if (wanted('idle'))
    results.push(
      await scenario(
        `${sizes.idle} idle`,
        { kind: 'idle', concurrency: sizes.idle, connectRate: 2000, spreadSources: true },
        baselineMs,
      ),
    );
  if (wanted('drip'))
    results.push(
      await scenario(
        `drip ${sizes.drip} x 1 B/s`,
        { kind: 'drip', concurrency: sizes.drip, dripIntervalMs: 1000, spreadSources: true },
        baselineMs,
      ),
    );
  if (wanted('badcreds'))
    results.push(
      await scenario(
        `bad credentials x ${sizes.badcreds}`,
        { kind: 'badcreds', concurrency: sizes.badcreds, connectRate: 5000, spreadSources: true },
        baselineMs,
      ),
    );
  const stun: StunResult[] = [];
  if (wanted('stun')) {
    stun.push(await stunScenario('stun server: no attack', undefined));
    stun.push(
      await stunScenario(`stun server: ${sizes.idle} idle`, {
        kind: 'idle',
        concurrency: sizes.idle,
        connectRate: 2000,
        spreadSources: true,
      }),
    );
    stun.push(
      await stunScenario(`stun server: drip ${sizes.drip} x 1 B/s`, {
        kind: 'drip',
        concurrency: sizes.drip,
        dripIntervalMs: 1000,
        spreadSources: true,
      }),
    );
    // Not a goal: clients that share the attacker's address (one CGNAT) share its per-source quota.
    stun.push(
      await stunScenario(`stun server: ${sizes.idle} idle, client's addr`, {
        kind: 'idle',
        concurrency: sizes.idle,
        connectRate: 2000,
      }),
    );
  }
  const end = await settledStats(p.victim, 2000);
  const fdsAtEnd = await p.victim.call<string[]>('fdList');
  const extraFds = fdsAtEnd.filter((f) => !fdsAtStart.includes(f));

  const crashes = distinctCrashes(p.victim.crashes);
  const goals = {
    noCrash: p.victim.crashes.length === 0 && p.victim.exit === undefined,
    allConnected: results.every((r) => r.failed.length === 0),
    within2x: results.every((r) => !(r.ratio > 2)),
    fdsBack: end.fds <= start.fds + 4,
    stunAnswered99: stun
      .filter((r) => !r.scenario.includes("client's addr"))
      .every((r) => r.answeredPercent >= 99),
  };
  console.log(
    [
      `seed ${seed}${short ? ' (short)' : ''}; victim fds ${start.fds} at start, ${end.fds} at end; RSS ${(start.rss / MB).toFixed(0)} -> ${(end.rss / MB).toFixed(0)} MB`,
      TABLE_HEADER,
      ...results.map(row),
      '',
      'STUN server                          answered   median ms  RSS MB before/peak/after  fds before/peak/after  crashes  attack',
      ...stun.map(stunRow),
      ...crashes.map((c) => `CRASH ${c.count}x ${c.kind}: ${c.stack.split('\n').slice(0, 6).join(' | ')}`),
      ...results.flatMap((r) => r.failed.slice(0, 3).map((f) => `FAILED (${r.scenario}): ${f}`)),
      ...results.flatMap((r) =>
        r.fdsLeft.length > 0 ? [`fds left by ${r.scenario}: ${r.fdsLeft.join(', ')}`] : [],
      ),
      ...(extraFds.length > 0
        ? [`victim fds open at the end that were not at the start: ${extraFds.join(', ')}`]
        : []),
      `goals: ${JSON.stringify(goals)}`,
    ].join('\n'),
  );
  console.log(JSON.stringify({ seed, short, start, end, extraFds, results, stun, crashes, goals }));
  process.exitCode = Object.values(goals).every(Boolean) ? 0 : 1;
} finally {
  await p.stop();
}
