import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RendezvousError } from '../../src/errors.js';
import { WebSocketSignaller } from '../../src/signalling/websocket.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { connectPair } from './helpers.js';

const ok = requireOrSkip('rendezvous over Redis', hasCommand('redis-server') ? [] : ['redis-server']);
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
/** `ice-tcp rendezvous` as a user runs it, through tsx from src. */
const rendezvousArgs = (redisUrl: string, ...more: string[]) => [
  '--import',
  'tsx',
  CLI,
  'rendezvous',
  '--port',
  '0',
  '--json',
  '--redis',
  redisUrl,
  ...more,
];

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Spawns a process and resolves with it once a line of its stdout matches. */
function startUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}${err}`)));
  });
}

async function rendezvous(redisUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const { child, line } = await startUntil(
    process.execPath,
    rendezvousArgs(redisUrl, '--token', 'shared'),
    /"event":"listening"/,
  );
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

describe.skipIf(!ok)('rendezvous processes sharing rooms through Redis', () => {
  it('two peers on different rendezvous processes connect; the room stays bounded across both', async () => {
    const redisPort = await freePort();
    const redis = await startUntil(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/,
    );
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const [one, two] = await Promise.all([rendezvous(redisUrl), rendezvous(redisUrl)]);

    const a = await WebSocketSignaller.connect(`ws://127.0.0.1:${one.port}/lab-room`, { token: 'shared' });
    const b = await WebSocketSignaller.connect(`ws://127.0.0.1:${two.port}/lab-room`, { token: 'shared' });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const agents: Array<() => void> = [];
    cleanups.push(() => {
      for (const c of agents) c();
    });
    await connectPair(a, b, agents);

    // the room holds two peers over both processes: a third is refused by either
    const third = await WebSocketSignaller.connect(`ws://127.0.0.1:${one.port}/lab-room`, {
      token: 'shared',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(third).toBeInstanceOf(RendezvousError);
    expect((third as RendezvousError).reason).toBe('room-full');

    // stopped by the test: SIGTERM closes each rendezvous cleanly, then redis
    for (const p of [one.child, two.child]) {
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    const redisExited = new Promise((resolve) => redis.child.once('exit', resolve));
    redis.child.kill('SIGTERM');
    await redisExited;
  });

  it('a rendezvous whose Redis is unreachable fails at start with a typed message', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, rendezvousArgs(`redis://127.0.0.1:${port}`), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      event: 'error',
      code: 'ERR_SIGNALLING',
      message: expect.stringContaining('cannot connect to Redis at redis://127.0.0.1'),
    });
  });
});
