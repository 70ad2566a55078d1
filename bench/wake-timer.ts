/**
 * How late the agent's wake-up comes past its due time (the checklist's Ta, consent), on the loop clock: the old
 * way (a `setTimeout` of the rest rounded up to whole ms) vs `WakeTimer` (src/agent/wake-timer.ts: nearest ms,
 * then the sub-ms rest turn by turn), interleaved in one process, deadlines 0.5-5 ms ahead at random phases (a
 * check's answer comes at any time within Ta). Lateness median / p90 / min (min < 0 would be a check sent before
 * Ta, RFC 8445 §14.2), and the process CPU per wait (the turns the rest costs). `os.loadavg()` printed with it.
 * Run: npx tsx bench/wake-timer.ts [--runs 400]
 */
import { loadavg } from 'node:os';
import { WakeTimer } from '../src/agent/wake-timer.js';
import { median, percentile } from './support.js';

const index = process.argv.indexOf('--runs');
const runs = Math.max(20, Number(index >= 0 ? process.argv[index + 1] : 400) || 400);
const now = () => performance.now();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The agent's wake-up before WakeTimer: ceil to whole ms, armed again when it came before the due time. */
function ceilTimer(wake: number): Promise<number> {
  return new Promise((resolve) => {
    const arm = () =>
      setTimeout(() => (now() >= wake ? resolve(now() - wake) : arm()), Math.max(0, Math.ceil(wake - now())));
    arm();
  });
}

function wakeTimer(wake: number): Promise<number> {
  return new Promise((resolve) =>
    new WakeTimer(now, () => resolve(now() - wake)).arm(wake, false, () => false),
  );
}

const ways = { ceilTimer, wakeTimer } as const;
type Samples = { late: number[]; cpu: number[] };
const samples: Record<keyof typeof ways, Samples> = {
  ceilTimer: { late: [], cpu: [] },
  wakeTimer: { late: [], cpu: [] },
};
for (let i = 0; i < runs; i++) {
  for (const way of i % 2 ? (['ceilTimer', 'wakeTimer'] as const) : (['wakeTimer', 'ceilTimer'] as const)) {
    await new Promise((r) => setTimeout(r, Math.random() * 2));
    const wake = now() + 0.5 + Math.random() * 4.5;
    const cpu = cpuMs();
    const late = await ways[way](wake);
    samples[way].cpu.push(cpuMs() - cpu);
    samples[way].late.push(late);
  }
}
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const summary = (s: Samples) => ({
  lateMedianMs: r3(median(s.late)),
  lateP90Ms: r3(percentile(s.late, 0.9)),
  lateMinMs: r3(Math.min(...s.late)),
  cpuPerWaitMedianMs: r3(median(s.cpu)),
});
console.log(
  JSON.stringify(
    {
      bench: 'wake-timer',
      node: process.version,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
      runs,
      ceilTimer: summary(samples.ceilTimer),
      wakeTimer: summary(samples.wakeTimer),
    },
    null,
    2,
  ),
);
