import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../support/lab.js';
import { ROOT } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { STUN_PORT, startStunServer } from './run-cell.js';

const ok = requireOrSkip('STUN redial (test/nat/stun-redial.test.ts)', missingForNetns(['nft', 'sysctl']));

const FIXTURE = fileURLToPath(new URL('./fixtures/query-mapping.ts', import.meta.url));
/** The agent's default gather timeout, which a server-reflexive candidate must be learned within. */
const GATHER_TIMEOUT_MS = 3000;
/** Local ports of the two cases; natA preserves them. */
const SYNS_LOST_PORT = 40000;
const SYNACK_LOST_PORT = 40001;

/**
 * Loss on natA's WAN wire aimed at one flow each: the first 3 SYNs from SYNS_LOST_PORT never leave, the first
 * SYN-ACK to SYNACK_LOST_PORT never arrives (so the server holds a half-open connection for the first ISN).
 */
const TARGETED_LOSS = `table netdev lab_synloss {
  chain out {
    type filter hook egress device "wan" priority filter; policy accept;
    meta protocol ip ip protocol tcp tcp sport ${SYNS_LOST_PORT} tcp flags & (syn | ack) == syn numgen inc mod 1000000 < 3 counter drop
  }
  chain in {
    type filter hook ingress device "wan" priority filter; policy accept;
    meta protocol ip ip protocol tcp tcp dport ${SYNACK_LOST_PORT} tcp flags & (syn | ack) == syn | ack numgen inc mod 1000000 < 1 counter drop
  }
}
`;

interface QueryAnswer {
  ok: boolean;
  mapped?: { address: string; port: number };
  code?: string;
  message?: string;
  ms: number;
}

describe.skipIf(!ok)('STUN over TCP from a fixed port, through lost SYNs', () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await createLab({ a: { mapping: 'preserve', filtering: 'drop' }, b: 'public' });
    await Promise.all([startStunServer(lab), lab.exec('natA', 'nft', ['-f', '-'], TARGETED_LOSS)]);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  async function query(localPort: number): Promise<QueryAnswer> {
    const args = ['--import', 'tsx', FIXTURE, lab!.server.address, String(STUN_PORT)];
    args.push(lab!.hosts.hostA.address, String(localPort), String(GATHER_TIMEOUT_MS));
    const child = lab!.spawn('hostA', process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    await once(child, 'exit');
    console.info(`query from ${localPort}: ${out.trim()}`);
    return JSON.parse(out) as QueryAnswer;
  }

  /** Packets the loss rule of `chain` dropped so far. */
  async function dropped(chain: 'in' | 'out'): Promise<number> {
    const listing = await lab!.exec('natA', 'nft', ['list', 'chain', 'netdev', 'lab_synloss', chain]);
    return Number(/counter packets (\d+)/.exec(listing)?.[1]);
  }

  it('learns the mapping within the gather timeout when the first 3 SYNs are lost', async () => {
    const answer = await query(SYNS_LOST_PORT);
    expect(await dropped('out')).toBe(3);
    // the same local port every time: the mapping is that of the port an S-O candidate dials from
    expect(answer).toMatchObject({ ok: true, mapped: { address: lab!.natA!.wan, port: SYNS_LOST_PORT } });
  }, 30_000);

  it('is not locked out when the SYN-ACK was lost and the server holds the first ISN', async () => {
    const answer = await query(SYNACK_LOST_PORT);
    expect(await dropped('in')).toBe(1);
    expect(answer).toMatchObject({ ok: true, mapped: { address: lab!.natA!.wan, port: SYNACK_LOST_PORT } });
  }, 30_000);
});
