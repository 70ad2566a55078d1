import { execFileSync } from 'node:child_process';

/** True when CI asked for every suite to run: a missing tool or missing root is then a failure. */
export const REQUIRE_ALL = process.env.ICE_TCP_REQUIRE_ALL === '1';

/** Whether an executable is on PATH (or an absolute path that exists and runs). */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process runs as root (network namespaces and nftables need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Returns true when the suite can run. When it cannot, warns loudly and returns false so the caller can
 * `describe.skipIf(!ok)`; under ICE_TCP_REQUIRE_ALL=1 it throws instead, so CI never counts a skip as a pass.
 */
export function requireOrSkip(suite: string, missing: string[]): boolean {
  if (missing.length === 0) return true;
  const message = `SKIPPED ${suite}: missing ${missing.join(', ')} (run \`sudo npm test\` on Debian to install and enable)`;
  if (REQUIRE_ALL) throw new Error(`ICE_TCP_REQUIRE_ALL=1 but ${message}`);
  console.warn(`\n*** ${message} ***\n`);
  return false;
}

/** The tools a network-namespace suite needs, as a list of what is missing. */
export function missingForNetns(extra: string[] = []): string[] {
  const missing: string[] = [];
  if (!isRoot()) missing.push('root');
  for (const tool of ['ip', ...extra]) if (!hasCommand(tool)) missing.push(tool);
  return missing;
}
