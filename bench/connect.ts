/**
 * Time to connect: two IceAgents on 127.0.0.1 in one process, both gathered, then the clock runs from the
 * moment the remote parameters and candidates are set until `connect()` has resolved on both sides.
 * Gathering is outside the timed region: it is bounded by binding listeners, not by ICE.
 * Run: npx tsx bench/connect.ts [--runs 20] [--tcp-types active,passive,so] [--pacing Ta-ms]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { IceAgent, type IceAgentOptions, type TcpType } from '../src/index.js';
import { gathered, median, percentile } from './support.js';

function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function tcpTypesOption(): TcpType[] | undefined {
  const index = process.argv.indexOf('--tcp-types');
  if (index < 0) return undefined;
  const types = (process.argv[index + 1] ?? '').split(',');
  return types.filter((t): t is TcpType => t === 'active' || t === 'passive' || t === 'so');
}

const runs = numberOption('runs', 20);
const warmups = numberOption('warmups', 3);
const tcpTypes = tcpTypesOption();
/** Ta override, to see how much of the time is pacing; unset: the agent's default. */
const pacingIndex = process.argv.indexOf('--pacing');
const checkPacingMs = pacingIndex >= 0 ? numberOption('pacing', 5) : undefined;

interface Sample {
  /** Until both agents' connect() resolved. */
  both: number;
  controlling: number;
  controlled: number;
  pair: string;
}

async function once(): Promise<Sample> {
  const base: IceAgentOptions = {
    addresses: ['127.0.0.1'],
    ...(tcpTypes ? { tcpTypes } : {}),
    ...(checkPacingMs !== undefined ? { checkPacingMs } : {}),
  };
  const alice = new IceAgent({ ...base, role: 'controlling' });
  const bob = new IceAgent({ ...base, role: 'controlled' });
  try {
    const [aliceCandidates, bobCandidates] = await Promise.all([gathered(alice), gathered(bob)]);
    const aliceParameters = alice.localParameters;
    const bobParameters = bob.localParameters;
    const start = performance.now();
    let controlling = 0;
    let controlled = 0;
    const connected = Promise.all([
      alice.connect().then((c) => {
        controlling = performance.now() - start;
        return c;
      }),
      bob.connect().then((c) => {
        controlled = performance.now() - start;
        return c;
      }),
    ]);
    alice.setRemoteParameters(bobParameters);
    bob.setRemoteParameters(aliceParameters);
    for (const c of bobCandidates) alice.addRemoteCandidate(c);
    for (const c of aliceCandidates) bob.addRemoteCandidate(c);
    alice.addRemoteCandidate(null);
    bob.addRemoteCandidate(null);
    const [connection] = await connected;
    const both = performance.now() - start;
    const pair = `${connection.localCandidate.tcpType}->${connection.remoteCandidate.tcpType}`;
    return { both, controlling, controlled, pair };
  } finally {
    alice.close();
    bob.close();
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function summary(values: number[]): { median: number; min: number; p90: number; max: number } {
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    p90: round(percentile(values, 0.9)),
    max: round(Math.max(...values)),
  };
}

for (let i = 0; i < warmups; i++) await once();
const samples: Sample[] = [];
for (let i = 0; i < runs; i++) {
  const sample = await once();
  process.stderr.write(`run ${i + 1}: ${sample.both.toFixed(2)} ms (${sample.pair})\n`);
  samples.push(sample);
  await sleep(20); // let the closed sockets of this run go before the next binds
}

const both = summary(samples.map((s) => s.both));
const pairs: Record<string, number> = {};
for (const s of samples) pairs[s.pair] = (pairs[s.pair] ?? 0) + 1;
console.log(
  JSON.stringify(
    {
      node: process.version,
      runs,
      tcpTypes: tcpTypes ?? ['active', 'passive', 'so'],
      checkPacingMs: checkPacingMs ?? 'default',
      ms: {
        both,
        controlling: summary(samples.map((s) => s.controlling)),
        controlled: summary(samples.map((s) => s.controlled)),
      },
      nominatedPairs: pairs,
      goal: 'median of both <= 10 ms',
      withinGoal: both.median <= 10,
    },
    null,
    2,
  ),
);
