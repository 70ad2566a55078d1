import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Consent runs a timer for as long as the selected connection lives: it must never outlive it. */

const FIXTURE = fileURLToPath(new URL('./fixtures/consent-exit.ts', import.meta.url));
/** Generous: starting tsx costs ~2 s of CPU, more on a loaded machine. */
const LIMIT_MS = 30_000;

function run(how: string): Promise<{ code: number | null; stdout: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, how], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, killed });
    });
  });
}

describe('no timer outlives the connection', () => {
  it.each(['agent-close', 'connection-reset'])('after %s the process exits by itself', async (how) => {
    const { code, stdout, killed } = await run(how);
    expect(stdout).toContain('connected');
    expect(killed).toBe(false);
    expect(code).toBe(0);
  });
});
