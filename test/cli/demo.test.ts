import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliCommand } from '../support/line-peer.js';

const run = promisify(execFile);

interface DemoStep {
  step: string;
  atMs: number;
  local?: { type: string; tcpType: string; address: string };
  remote?: { type: string; tcpType: string; address: string };
  bytesEachWay?: number;
}

describe('ice-tcp demo', () => {
  it('gathers, nominates a host pair and moves the bytes both ways, reporting each step in JSON', async () => {
    const [cmd, args] = cliCommand(['demo', '--json', '--bytes', String(1 << 20)]);
    const { stdout } = await run(cmd, args, { timeout: 30_000 });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      ok: boolean;
      steps: DemoStep[];
    };
    expect(report.ok).toBe(true);
    const names = report.steps.map((s) => s.step);
    expect(names[0]).toBe('gathered');
    const nominated = report.steps.find((s) => s.step === 'nominated');
    expect(nominated?.local).toMatchObject({ type: 'host', address: '127.0.0.1' });
    expect(nominated?.remote).toMatchObject({ type: 'host', address: '127.0.0.1' });
    const data = report.steps.find((s) => s.step === 'data exchanged');
    expect(data?.bytesEachWay).toBe(1 << 20);
    const times = report.steps.map((s) => s.atMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('exits with code 2 and a usage message on an unknown flag', async () => {
    const [cmd, args] = cliCommand(['demo', '--no-such-flag']);
    const failure = await run(cmd, args, { timeout: 30_000 }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/no-such-flag|unknown/i);
  });
});
