import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { exchangeLines, type LinePeer } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { createVethPair, type VethPair } from '../transport/veth.js';
import { cliInNamespace, type ReportedEndpoint } from './cli-in-netns.js';

const ok = requireOrSkip('S-O agents over a veth pair (test/nat/so-veth.test.ts)', missingForNetns());

const RUNS = 10;
const BYTES = 256 * 1024;

/**
 * Two plain hosts, no NAT: a SYN that arrives before the peer dialled draws a RST, so S-O only meets
 * because each S-O port also accepts inbound (RFC 6544 §7.2) and retries after a refusal.
 */
describe.skipIf(!ok)('S-O candidates only, two agent processes in two namespaces joined by a veth', () => {
  let veth: VethPair | undefined;
  const peers = new Set<LinePeer>();
  beforeAll(() => {
    veth = createVethPair(`itsv${process.pid.toString(36)}`);
  });
  afterAll(() => {
    for (const p of peers) p.kill();
    veth?.destroy();
  });

  async function once(run: number): Promise<number> {
    const [nsA, nsB] = veth!.namespaces;
    const [ipA, ipB] = veth!.addresses;
    const common = ['--tcp-types', 'so', '--timeout', '15', '--send-bytes', `${BYTES}`, '--sha256'];
    const a = cliInNamespace(nsA, [
      'connect',
      '--controlling',
      '--bind',
      ipA,
      ...common,
      '--expect-bytes',
      `${BYTES}`,
    ]);
    const b = cliInNamespace(nsB, [
      'connect',
      '--controlled',
      '--bind',
      ipB,
      ...common,
      '--expect-bytes',
      `${BYTES}`,
    ]);
    peers.add(a).add(b);
    try {
      await exchangeLines(a, b);
      const [ca, cb] = await Promise.all([a.waitFor('connected', 20_000), b.waitFor('connected', 20_000)]);
      for (const [event, mine, theirs] of [
        [ca, ipA, ipB],
        [cb, ipB, ipA],
      ] as const) {
        expect(event.local as ReportedEndpoint).toMatchObject({ type: 'host', tcptype: 'so', address: mine });
        expect(event.remote as ReportedEndpoint).toMatchObject({ tcptype: 'so', address: theirs });
      }
      const [da, db] = await Promise.all([a.waitFor('done', 20_000), b.waitFor('done', 20_000)]);
      expect(da.sha256Received).toBe(patternSha256(BYTES));
      expect(db.sha256Received).toBe(patternSha256(BYTES));
      expect([await a.exited(), await b.exited()]).toEqual([0, 0]);
      const ms = Math.max(Number(ca.elapsedMs), Number(cb.elapsedMs));
      console.info(`so-veth run ${run}: connected in ${ms} ms`);
      return ms;
    } finally {
      a.kill();
      b.kill();
      peers.delete(a);
      peers.delete(b);
    }
  }

  it(`connects so<->so and moves data both ways, ${RUNS} times in a row`, async () => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await once(i));
    const sorted = [...times].sort((x, y) => x - y);
    console.info(
      `so-veth: ${times.length}/${RUNS} connected; median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`,
    );
  }, 240_000);
});
