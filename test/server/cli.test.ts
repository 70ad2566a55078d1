/** `ice-tcp stun-server`: the connection policy is configurable from the command line. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cliCommand } from '../support/line-peer.js';
import { TcpClient } from './client.js';

const run = promisify(execFile);
let children: ChildProcess[] = [];
let clients: TcpClient[] = [];
afterEach(() => {
  for (const c of clients) c.destroy();
  clients = [];
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children = [];
});

async function startCli(flags: string[]): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = cliCommand(['stun-server', '--host', '127.0.0.1', '--port', '0', '--json', ...flags]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  const info = JSON.parse(line) as { event: string; primary: { port: number } };
  expect(info.event).toBe('listening');
  return { child, port: info.primary.port };
}

describe('ice-tcp stun-server policy flags', () => {
  it('applies --request-timeout-ms (and accepts every policy flag)', async () => {
    const { child, port } = await startCli([
      '--request-timeout-ms',
      '200',
      '--idle-timeout-ms',
      '10000',
      '--max-connections',
      '50',
      '--max-connections-per-ip',
      '2',
      '--udp-amplification',
      '2',
    ]);
    const silent = await TcpClient.connect(port);
    clients.push(silent);
    const closed = await Promise.race([
      silent.ended.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    expect(closed).toBe(true);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });

  it('applies --max-connections-per-ip: the third connection from one address pushes out its oldest', async () => {
    const { child, port } = await startCli(['--max-connections-per-ip', '2']);
    const three: TcpClient[] = [];
    for (let i = 0; i < 3; i++)
      three.push(await TcpClient.connect(port, '127.0.0.1', undefined, '127.0.0.9'));
    clients.push(...three);
    // well before the default 3 s request deadline
    const first = await Promise.race([
      three[0]!.ended.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
    ]);
    expect(first).toBe(true);
    expect(three[2]!.socket.destroyed).toBe(false);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('exits 2 naming the flag when a policy value cannot work', async () => {
    const [cmd, args] = cliCommand(['stun-server', '--port', '0', '--max-connections-per-ip', '0']);
    const failure = await run(cmd, args, { timeout: 30_000 }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('max-connections-per-ip');
  });
});
