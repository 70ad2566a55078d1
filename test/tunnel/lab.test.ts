import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cliInNamespace } from '../nat/cli-in-netns.js';
import { STUN_PORT, startLabTurn, startStunServer, TURN_PORT } from '../nat/run-cell.js';
import type { Coturn } from '../support/coturn.js';
import { createLab, type Lab, type LabOptions } from '../support/lab.js';
import { exchangeLines, type LinePeer, ROOT } from '../support/line-peer.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip(
  'tunnel across the NAT lab (test/tunnel/lab.test.ts)',
  missingForNetns(['nft', 'sysctl']),
);
const DOWNLOAD = fileURLToPath(new URL('./download.ts', import.meta.url));
const SERVICE_PORT = 8080;
const TOTAL = 100 * 1024 * 1024;
const STREAMS = 20;

let lab: Lab | undefined;
let turn: Coturn | undefined;
const peers: LinePeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.kill();
  await turn?.stop();
  turn = undefined;
  await lab?.destroy();
  lab = undefined;
});

/**
 * A plain TCP service in hostA (behind natA) behind `tunnel serve`, `tunnel connect` in hostB (behind natB), and
 * 20 parallel downloads of 100 MB in all through hostB's local listener; resolves with what the client saw.
 */
async function downloadThroughTunnel(cell: LabOptions, withTurn: boolean) {
  lab = await createLab(cell);
  const [, coturn] = await Promise.all([startStunServer(lab), withTurn ? startLabTurn(lab) : undefined]);
  turn = coturn;
  const service = lab.spawn(
    'hostA',
    process.execPath,
    ['--import', 'tsx', DOWNLOAD, 'serve', String(SERVICE_PORT)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) =>
    createInterface({ input: service.stdout! }).once('line', () => resolve()),
  );
  const common = ['--stun', `${lab.server.address}:${STUN_PORT}`, '--timeout', '20', '--json'];
  if (turn) common.push('--turn', `${lab.server.address}:${TURN_PORT}:${turn.username}:${turn.password}`);
  const { hostA, hostB } = lab.hosts;
  const serve = cliInNamespace(hostA.namespace, [
    'tunnel',
    'serve',
    '--forward',
    `127.0.0.1:${SERVICE_PORT}`,
    '--bind',
    hostA.address,
    ...common,
  ]);
  const client = cliInNamespace(hostB.namespace, [
    'tunnel',
    'connect',
    '--listen',
    '127.0.0.1:0',
    '--bind',
    hostB.address,
    ...common,
  ]);
  peers.push(serve, client);
  await exchangeLines(serve, client);
  const connected = await client.waitFor('connected', 30_000);
  const { port } = await client.waitFor('listening');
  const out = await lab.exec('hostB', process.execPath, [
    '--import',
    'tsx',
    DOWNLOAD,
    'fetch',
    '127.0.0.1',
    String(port),
    String(STREAMS),
    String(TOTAL),
  ]);
  const fetched = JSON.parse(out.trim().split('\n').at(-1) as string) as {
    ok: number;
    bytes: number;
    seconds: number;
  };
  const pair = (e: unknown) => (e as { type: string; tcptype: string }).type;
  return { ...fetched, local: pair(connected.local), remote: pair(connected.remote) };
}

describe.skipIf(!ok)('ice-tcp tunnel across the NAT lab', () => {
  it('100 MB in 20 parallel streams from a service behind one NAT to a client behind another, direct', async () => {
    const r = await downloadThroughTunnel({ a: { mapping: 'preserve' }, b: { mapping: 'preserve' } }, false);
    console.log(
      `tunnel direct: ${r.ok}/${STREAMS} streams, ${r.bytes} bytes in ${r.seconds.toFixed(1)} s (${r.local}/${r.remote})`,
    );
    expect(r.ok).toBe(STREAMS);
    expect(r.bytes).toBe(Math.floor(TOTAL / STREAMS) * STREAMS);
    expect([r.local, r.remote]).not.toContain('relay');
  });

  it('the same through a relay-only cell (random mapping on both sides, coturn)', async () => {
    const r = await downloadThroughTunnel({ a: { mapping: 'random' }, b: { mapping: 'random' } }, true);
    console.log(
      `tunnel relayed: ${r.ok}/${STREAMS} streams, ${r.bytes} bytes in ${r.seconds.toFixed(1)} s (${r.local}/${r.remote})`,
    );
    expect(r.ok).toBe(STREAMS);
    expect([r.local, r.remote]).toContain('relay');
  });
});
