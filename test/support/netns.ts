/**
 * Small primitives over `ip` and `nft` for tests that build networks out of Linux network namespaces.
 * Every command runs through `execFile` (no shell): arguments are tokens, never interpolated strings.
 */
import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

/** Output of a finished command. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`, optionally feeding `input` on stdin; rejects with stderr in the message on a non-zero exit. */
export function run(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }),
        );
        return;
      }
      resolve({ stdout, stderr });
    });
    // A child that exits before reading stdin makes the write fail with EPIPE: the exit code reports it.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** Tokens go into `ip -batch` lines separated by spaces, so one containing whitespace would inject words. */
function checkToken(token: string): string {
  if (token.length === 0 || /[\s"'\\#]/.test(token))
    throw new Error(`unsafe ip batch token ${JSON.stringify(token)}`);
  return token;
}

/**
 * A list of `ip` commands run by one `ip [-n namespace] -batch -` process: one fork for many commands is what
 * keeps a lab's bring-up well under a second.
 */
export class IpBatch {
  private readonly lines: string[] = [];

  /** A batch run inside `namespace`, or in the caller's namespace when it is undefined. */
  constructor(readonly namespace?: string) {}

  /** Appends one command, e.g. `['link', 'set', 'eth0', 'up']`. */
  add(...tokens: string[]): this {
    this.lines.push(tokens.map(checkToken).join(' '));
    return this;
  }

  /** Number of commands queued. */
  get size(): number {
    return this.lines.length;
  }

  /** Runs the batch; stops at the first failing command and rejects with its message. */
  async run(): Promise<void> {
    if (this.lines.length === 0) return;
    const args = this.namespace === undefined ? ['-batch', '-'] : ['-n', this.namespace, '-batch', '-'];
    await run('ip', args, `${this.lines.join('\n')}\n`);
  }
}

/** Names of the namespaces that exist now (`ip netns list` without forking: it lists /run/netns). */
export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Creates a network namespace. */
export async function createNamespace(name: string): Promise<void> {
  await new IpBatch().add('netns', 'add', name).run();
}

/** Deletes the namespaces that exist among `names`; absent ones are ignored. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  const existing = new Set(listNamespaces());
  const batch = new IpBatch();
  for (const name of names) if (existing.has(name)) batch.add('netns', 'del', name);
  await batch.run();
}

/** Synchronous {@link deleteNamespaces} for a process 'exit' hook, where nothing asynchronous runs. */
export function deleteNamespacesSync(names: readonly string[]): void {
  const existing = new Set(listNamespaces());
  const lines = names.filter((n) => existing.has(n)).map((n) => `netns del ${checkToken(n)}`);
  if (lines.length === 0) return;
  try {
    execFileSync('ip', ['-force', '-batch', '-'], {
      input: `${lines.join('\n')}\n`,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  } catch {
    // Last resort at exit: nothing left to report to.
  }
}

/** Creates a veth pair with one end `aName` in `aNs` and the other `bName` in `bNs` (both down). */
export async function createVeth(aNs: string, aName: string, bNs: string, bName: string): Promise<void> {
  await new IpBatch().add(...vethTokens(aNs, aName, bNs, bName)).run();
}

/**
 * The `ip link add` tokens for a veth pair created straight inside two namespaces: the names then only
 * need to be unique per namespace, so parallel labs never collide in the root namespace.
 */
export function vethTokens(aNs: string, aName: string, bNs: string, bName: string): string[] {
  return ['link', 'add', 'name', aName, 'netns', aNs, 'type', 'veth', 'peer', 'name', bName, 'netns', bNs];
}

/** Creates a bridge `name` inside `ns`, STP off, so ports forward at once. */
export async function createBridge(ns: string, name: string): Promise<void> {
  await new IpBatch().add(...bridgeTokens(ns, name)).run();
}

/** The `ip link add` tokens for a bridge created inside `ns` with no forwarding delay. */
export function bridgeTokens(ns: string, name: string): string[] {
  return ['link', 'add', 'name', name, 'netns', ns, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0'];
}

/** Adds `cidr` (e.g. `10.0.1.1/24`) to `dev` in `ns`. */
export async function addAddress(ns: string, dev: string, cidr: string): Promise<void> {
  await new IpBatch(ns).add('addr', 'add', cidr, 'dev', dev).run();
}

/** Adds a route to `destination` (`default` or a CIDR) via `gateway` in `ns`. */
export async function addRoute(ns: string, destination: string, gateway: string): Promise<void> {
  await new IpBatch(ns).add('route', 'add', destination, 'via', gateway).run();
}

/** Sets interfaces up in `ns`. */
export async function setLinksUp(ns: string, devs: readonly string[]): Promise<void> {
  const batch = new IpBatch(ns);
  for (const dev of devs) batch.add('link', 'set', dev, 'up');
  await batch.run();
}

/**
 * Sets sysctls inside `ns`. Keys the kernel does not have are ignored (`-e`): `net.bridge.*` only exists
 * when br_netfilter is loaded, and then it is what must be switched off.
 */
export async function setSysctls(
  ns: string,
  values: Readonly<Record<string, string | number>>,
): Promise<void> {
  const pairs = Object.entries(values).map(
    ([key, value]) => `${checkToken(key)}=${checkToken(String(value))}`,
  );
  if (pairs.length === 0) return;
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-e', '-w', ...pairs]);
}

/** Loads an nftables ruleset (the text `nft -f` reads) inside `ns`, atomically. */
export async function loadNftRuleset(ns: string, ruleset: string): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], ruleset);
}

/** Runs `cmd args` inside `ns` and resolves with its stdout. */
export async function execIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  return (await run('ip', ['netns', 'exec', ns, cmd, ...args], input)).stdout;
}

/**
 * Spawns `cmd args` inside `ns`. `ip netns exec` execs the command in place, so the returned child's pid is
 * the command's own and killing it kills the command.
 */
export function spawnIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...options });
}
