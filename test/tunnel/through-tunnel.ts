/**
 * The tunnel through the NAT lab, for test/tunnel/lab.test.ts and bench/tunnel-lab.ts: a plain TCP service in
 * hostA (behind natA) behind `tunnel serve`, `tunnel connect` in hostB (behind natB), and parallel downloads
 * through hostB's local listener (test/tunnel/download.ts). Needs root and what the lab needs.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cliInNamespace } from '../nat/cli-in-netns.js';
import { STUN_PORT, startLabTurn, startStunServer, TURN_PORT } from '../nat/run-cell.js';
import type { Coturn } from '../support/coturn.js';
import { createLab, type Lab, type LabOptions } from '../support/lab.js';
import { exchangeLines, type LinePeer, ROOT } from '../support/line-peer.js';

const DOWNLOAD = fileURLToPath(new URL('./download.ts', import.meta.url));
const SERVICE_PORT = 8080;

/** What a run started, for the caller to stop (`stopTunnelLab`) however the run ended. */
export interface TunnelLab {
  lab?: Lab;
  turn?: Coturn;
  peers: LinePeer[];
}

/** What the client saw: streams that arrived whole, bytes, seconds, and the selected pair's candidate types. */
export interface TunnelDownload {
  ok: number;
  bytes: number;
  seconds: number;
  local: string;
  remote: string;
}

/** Kills the CLIs, stops coturn and removes the lab. */
export async function stopTunnelLab(run: TunnelLab): Promise<void> {
  for (const p of run.peers.splice(0)) p.kill();
  await run.turn?.stop();
  run.turn = undefined;
  await run.lab?.destroy();
  run.lab = undefined;
}

/** `streams` parallel downloads of `total` bytes in all through the tunnel, in a new lab of `cell`. */
export async function downloadThroughTunnel(
  run: TunnelLab,
  cell: LabOptions,
  options: { withTurn: boolean; streams: number; total: number },
): Promise<TunnelDownload> {
  const lab = await createLab(cell);
  run.lab = lab;
  const [, coturn] = await Promise.all([
    startStunServer(lab),
    options.withTurn ? startLabTurn(lab) : undefined,
  ]);
  run.turn = coturn;
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
  if (coturn)
    common.push('--turn', `${lab.server.address}:${TURN_PORT}:${coturn.username}:${coturn.password}`);
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
  run.peers.push(serve, client);
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
    String(options.streams),
    String(options.total),
  ]);
  const fetched = JSON.parse(out.trim().split('\n').at(-1) as string) as {
    ok: number;
    bytes: number;
    seconds: number;
  };
  const pair = (e: unknown) => (e as { type: string; tcptype: string }).type;
  return { ...fetched, local: pair(connected.local), remote: pair(connected.remote) };
}
