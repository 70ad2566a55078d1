import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FAST_RETRIES } from '../../src/transport/index.js';
import { createLab, type Lab } from '../support/lab.js';
import { ROOT } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip('RST ping-pong (test/nat/rst-pingpong.test.ts)', missingForNetns(['nft', 'sysctl']));

const FIXTURE = fileURLToPath(new URL('./fixtures/so-dial-peer.ts', import.meta.url));
const TRIALS = 10;
const DIAL_TIMEOUT_MS = 5000;

interface TrialAnswer {
  trial: number;
  ok: boolean;
  connectMs: number;
  code?: string;
}

/**
 * Two port-preserving NATs that answer unsolicited SYNs with RST, at ~0 RTT: each side's RST kills the other's
 * NAT state, so the SYNs must cross within one RTT (docs/ARCHITECTURE.md, "RST ping-pong"). The S-O dialer re-SYNs at
 * once after a refusal; with the old 20 ms pause most trials never met within 5 s.
 */
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

  it(`connects in (nearly) every one of ${TRIALS} trials, the sides starting up to 30 ms apart`, async () => {
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
      else failures.push(JSON.stringify({ ra, rb }));
    }
    const sorted = [...times].sort((x, y) => x - y);
    console.info(
      `rst/rst S-O: ${times.length}/${TRIALS} met; median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms${failures.length ? `\n${failures.join('\n')}` : ''}`,
    );
    // One miss is tolerated (reported, not hidden). Captured on the lab NATs: when the SYNs cross but the side
    // whose SYN the far NAT refused has no socket left to answer the crossing SYN (its event loop stalled,
    // or its port listener answered and was then closed for the next bind, resetting the queued handshake),
    // that NAT's conntrack entry is left in SYN_SENT2 (or CLOSE): every later SYN carries a fresh ISN outside
    // the entry's window, so inbound SYNs are refused and outbound ones leave un-NATed, for longer than the
    // dial. Also seen under CPU load: SYNs that never cross in 5 s, since at ~0 RTT both sides must be on a
    // CPU at once.
    expect(times.length).toBeGreaterThanOrEqual(TRIALS - 1);
  }, 120_000);
});
