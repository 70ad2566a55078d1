import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FAST_RETRIES } from '../../src/transport/index.js';
import { createLab, type Lab } from '../support/lab.js';
import { ROOT } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip('RST ping-pong (test/nat/rst-pingpong.test.ts)', missingForNetns(['nft', 'sysctl']));

const FIXTURE = fileURLToPath(new URL('./fixtures/so-dial-peer.ts', import.meta.url));
const TRIALS = 20;
const DIAL_TIMEOUT_MS = 5000;
/**
 * Trials that must meet. At ~0 RTT the SYNs cross only when both peers run at the same instant, so the rate
 * follows the CPU load, not the dialer: 0.92 per trial measured with the machine at load average 15-22 (247 of
 * 270 trials), 0.75 with two more busy loops on top (60 of 80). At 0.8, 20 trials give fewer than 12 in 1 %
 * of runs (4 % at 0.75). A dialer that pauses 20 ms between SYNs met in 3 of 10 at load 20 (0 of 10 on a quiet
 * machine, docs/ARCHITECTURE.md, RST ping-pong), so a lost immediate re-SYN still fails this.
 */
const MIN_MET = 12;

interface TrialAnswer {
  trial: number;
  ok: boolean;
  connectMs: number;
  code?: string;
}

describe.skipIf(!ok)('S-O dial through two RST-filtering NATs', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab({
      a: { mapping: 'preserve', filtering: 'rst' },
      b: { mapping: 'preserve', filtering: 'rst' },
    });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  function peer(node: 'hostA' | 'hostB', local: string, remote: string) {
    const args = [
      '--import',
      'tsx',
      FIXTURE,
      local,
      remote,
      '41000',
      '20',
      String(DIAL_TIMEOUT_MS),
      String(DEFAULT_FAST_RETRIES),
    ];
    const child = lab!.spawn(node, process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return {
      send: (trial: number, delayMs: number) => child.stdin!.write(`${JSON.stringify({ trial, delayMs })}\n`),
      next: async () => {
        const line = await lines.next();
        if (line.done) throw new Error(`fixture on ${node} exited`);
        return JSON.parse(line.value) as TrialAnswer & { ready?: boolean };
      },
    };
  }

  /** The NATs' conntrack entries of one trial's 5-tuple (how a miss ended: no state, or state refusing it). */
  async function conntrack(port: number): Promise<string[]> {
    const entries: string[] = [];
    for (const nat of ['natA', 'natB'] as const) {
      const table = await lab!.exec(nat, 'cat', ['/proc/net/nf_conntrack']).catch(() => 'unreadable');
      for (const line of table.split('\n'))
        if (line.includes(`sport=${port} `) || line === 'unreadable')
          entries.push(`${nat}: ${line.replace(/\s+/g, ' ').trim()}`);
    }
    return entries;
  }

  it(`connects in at least ${MIN_MET} of ${TRIALS} trials, the sides starting up to 30 ms apart`, async () => {
    const a = peer('hostA', lab!.hosts.hostA.address, lab!.natB!.wan);
    const b = peer('hostB', lab!.hosts.hostB.address, lab!.natA!.wan);
    await Promise.all([a.next(), b.next()]);
    const times: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const offset = (i * 7) % 31;
      a.send(i, 0);
      b.send(i, offset);
      const [ra, rb] = await Promise.all([a.next(), b.next()]);
      if (ra.ok && rb.ok) times.push(Math.max(ra.connectMs - offset, rb.connectMs));
      else failures.push(JSON.stringify({ ra, rb, conntrack: await conntrack(41000 + i) }));
    }
    const sorted = [...times].sort((x, y) => x - y);
    console.info(
      `rst/rst S-O: ${times.length}/${TRIALS} met; median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, p90 ${sorted[Math.floor(sorted.length * 0.9)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms${failures.length ? `\n${failures.join('\n')}` : ''}`,
    );
    // Misses are reported with the NATs' state of that 5-tuple. No entry: the SYNs never crossed within the
    // dial (both peers must be on a CPU at once; under load each side got out 100-200 SYNs/s instead of
    // thousands). Entries left in CLOSE, SYN_SENT2 or an UNREPLIED SYN_SENT: the SYNs crossed as one side was
    // refused, and every later SYN of the 5-tuple (a fresh ISN) is refused for longer than the dial; about
    // 3 % of trials under load. The case where a peer's listener accepted the crossing SYN and then reset it
    // when it closed for the next bind is fixed (test/transport/port-listener-gate.test.ts).
    expect(times.length).toBeGreaterThanOrEqual(MIN_MET);
  }, 180_000);
});
