import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/** A free loopback TCP port (closed again: the caller's process binds it). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * Spawns a process and resolves with it once a line of its stdout matches; `cleanups` gets its SIGKILL, so a
 * failing test leaves nothing running.
 */
export function startUntil(
  cmd: string,
  args: string[],
  ready: RegExp,
  cleanups: Array<() => void | Promise<void>>,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => void child.kill('SIGKILL'));
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

/** A throw-away redis-server on a free loopback port, without persistence; resolves with its URL. */
export async function startRedis(
  cleanups: Array<() => void | Promise<void>>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const { child } = await startUntil(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    /Ready to accept connections/,
    cleanups,
  );
  return { url: `redis://127.0.0.1:${port}`, child };
}
