import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RendezvousError } from '../../src/errors.js';
import { WebSocketSignaller } from '../../src/signalling/websocket.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { byLength, connectPair, GREETED, greetEachOther } from './helpers.js';
import { freePort, startRedis, startUntil } from './redis-support.js';

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

let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function rendezvous(
  redisUrl: string,
  ...more: string[]
): Promise<{ child: ChildProcess; port: number }> {
  const { child, line } = await startUntil(
    process.execPath,
    rendezvousArgs(redisUrl, ...more),
    /"event":"listening"/,
    cleanups,
  );
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/** SIGTERM, as an operator stops it; resolves with the exit code. */
function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe.skipIf(!ok)('rendezvous processes sharing rooms through Redis', () => {
  it('two peers on different rendezvous processes connect; the room stays bounded across both', async () => {
    const redis = await startRedis(cleanups);
    const [one, two] = await Promise.all([
      rendezvous(redis.url, '--token', 'shared'),
      rendezvous(redis.url, '--token', 'shared'),
    ]);

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
    for (const p of [one.child, two.child]) expect(await stop(p)).toBe(0);
    await stop(redis.child);
  }, 120_000);

  it('pairs split over two processes, joining at once in many rooms: each member learns of its peer once', async () => {
    const redis = await startRedis(cleanups);
    const [one, two] = await Promise.all([rendezvous(redis.url), rendezvous(redis.url)]);
    // the two joins of a room land in either order and race each other's accept (issue 12)
    const rooms = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    const pairs = await Promise.all(
      rooms.map((room) =>
        greetEachOther(`ws://127.0.0.1:${one.port}/${room}`, `ws://127.0.0.1:${two.port}/${room}`, cleanups),
      ),
    );
    for (const pair of pairs) expect(byLength(pair)).toEqual(GREETED);
    for (const p of [one.child, two.child]) expect(await stop(p)).toBe(0);
  }, 120_000);

  it('a rendezvous whose Redis is unreachable fails at start with a typed message', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, rendezvousArgs(`redis://127.0.0.1:${port}`), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
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
