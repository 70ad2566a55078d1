import { spawn } from 'node:child_process';
import { cliCommand } from '../support/line-peer.js';

/** What a finished CLI run printed, or 'hung' when it outlived its time limit (then it was killed). */
export type CliRun = { code: number | null; stdout: string; stderr: string } | 'hung';

/** Runs the CLI from source with `input` on stdin (then EOF). */
export function runCli(argv: string[], options: { input?: string; ms?: number } = {}): Promise<CliRun> {
  const [cmd, args] = cliCommand(argv);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, options.ms ?? 45_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
