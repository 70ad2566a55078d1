/**
 * How many immediate re-SYNs a simultaneous-open dial uses to get through the RST ping-pong between two
 * RST-filtering, port-preserving lab NATs (docs/ARCHITECTURE.md, RST ping-pong): the figure behind the
 * per-dial fast-retry bound.
 * Needs root, `ip` and `nft`. Prints one JSON line: attempts per successful dial (both sides), connect times.
 * `tsx bench/so-fast-retries.ts [trials] [fastRetries]`
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createLab } from '../test/support/lab.js';
import { percentile } from './support.js';

const TRIALS = Number(process.argv[2] ?? 20);
const FAST = process.argv[3] ?? '2000';
const FIXTURE = fileURLToPath(new URL('../test/nat/fixtures/so-dial-peer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const lab = await createLab({
  a: { mapping: 'preserve', filtering: 'rst' },
  b: { mapping: 'preserve', filtering: 'rst' },
});
try {
  const attempts: number[] = [];
  const times: number[] = [];
  let failures = 0;
  const peer = (node: 'hostA' | 'hostB', local: string, remote: string) => {
    const args = ['--import', 'tsx', FIXTURE, local, remote, '42000', '20', '5000', FAST];
    const child = lab.spawn(node, process.execPath, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DEBUG: 'ice-tcp:transport', DEBUG_COLORS: '0' },
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /connected after (\d+) attempts/.exec(line);
      if (m) attempts.push(Number(m[1]));
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return {
      send: (trial: number, delayMs: number) => child.stdin!.write(`${JSON.stringify({ trial, delayMs })}\n`),
      next: async () =>
        JSON.parse((await lines.next()).value as string) as { ok: boolean; connectMs: number },
    };
  };
  const a = peer('hostA', lab.hosts.hostA.address, lab.natB!.wan);
  const b = peer('hostB', lab.hosts.hostB.address, lab.natA!.wan);
  await Promise.all([a.next(), b.next()]);
  for (let i = 0; i < TRIALS; i++) {
    const offset = (i * 7) % 31;
    a.send(i, 0);
    b.send(i, offset);
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    if (ra.ok && rb.ok) times.push(Math.max(ra.connectMs - offset, rb.connectMs));
    else failures++;
  }
  await new Promise((r) => setTimeout(r, 200));
  const sorted = [...attempts].sort((x, y) => x - y);
  console.log(
    JSON.stringify({
      trials: TRIALS,
      fastRetries: Number(FAST),
      met: times.length,
      failures,
      attemptsPerConnectedDial: {
        median: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        max: sorted.at(-1),
        all: sorted,
      },
      connectMs: { median: percentile(times, 0.5), max: Math.max(...times) },
    }),
  );
} finally {
  await lab.destroy();
}
