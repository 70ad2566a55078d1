import { spawn } from 'node:child_process';

/** How a script run by {@link runDetached} ended. */
export interface DetachedRun {
  code: number | null;
  stdout: string;
  /** True when it outlived `limitMs` and its process group was killed. */
  killed: boolean;
}

/**
 * Runs a TypeScript script under tsx in its own process group, collecting stdout; past `limitMs` the whole
 * group (the script and the processes it started) is killed, so a hang cannot outlive the test.
 */
export function runDetached(script: string, args: string[], limitMs: number): Promise<DetachedRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    let stdout = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const timer = setTimeout(() => {
      killed = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, killed });
    });
  });
}
