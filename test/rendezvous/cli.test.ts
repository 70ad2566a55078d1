import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const out = new Promise<string>((resolve) => child.once('close', () => resolve(text)));
  return { child, out };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
  });
}

describe('ice-tcp rendezvous with ice-tcp connect --rendezvous', () => {
  it('two connect processes meet in a room and move bytes; SIGTERM stops the rendezvous with exit 0', async () => {
    const env = { ICE_TCP_RENDEZVOUS_TOKEN: 'cli-secret' };
    const server = cli(['rendezvous', '--port', '0', '--json'], env);
    const listening = JSON.parse(await firstLine(server.child)) as { port: number; token: boolean };
    expect(listening.token).toBe(true);
    const room = `ws://127.0.0.1:${listening.port}/cli-room`;
    const common = ['--rendezvous', room, '--bind', '127.0.0.1', '--json'];
    const a = cli(['connect', '--controlling', ...common, '--send-bytes', '100000'], env);
    const b = cli(['connect', '--controlled', ...common, '--expect-bytes', '100000'], env);
    const codes = await Promise.all(
      [a, b].map((p) => new Promise<number | null>((resolve) => p.child.once('exit', resolve))),
    );
    const outB = await b.out;
    expect(codes, `${await a.out}\n${outB}`).toEqual([0, 0]);
    expect(outB).toContain('"event":"done"');
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a wrong token fails connect with a typed message, exit 1', async () => {
    const server = cli(['rendezvous', '--port', '0', '--json', '--token', 'right']);
    const { port } = JSON.parse(await firstLine(server.child)) as { port: number };
    const a = cli(['connect', '--rendezvous', `ws://127.0.0.1:${port}/r`, '--bind', '127.0.0.1', '--json'], {
      ICE_TCP_RENDEZVOUS_TOKEN: 'wrong',
    });
    const code = await new Promise((resolve) => a.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(await a.out).toContain('"code":"ERR_SIGNALLING"');
  });
});
