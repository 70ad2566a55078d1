import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Repository root (for spawning the CLI from its TypeScript source). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The command line that runs the ice-tcp CLI: from source, without a build. For measurements: `CLI_FROM_DIST`
 * runs the compiled CLI (`dist/cli.js`, built beforehand, or the build at `CLI_ENTRY`, e.g. an older commit's for a
 * before/after) and `CLI_NODE_FLAGS` adds Node flags (e.g. `--no-lazy`).
 */
export function cliCommand(args: string[]): [string, string[]] {
  const flags = process.env.CLI_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  if (process.env.CLI_FROM_DIST)
    return [process.execPath, [...flags, process.env.CLI_ENTRY ?? `${ROOT}dist/cli.js`, ...args]];
  return [process.execPath, [...flags, '--import', 'tsx', `${ROOT}src/cli.ts`, ...args]];
}

/**
 * A peer process speaking the copy-paste protocol of `ice-tcp connect` (and of the libnice test peer):
 * it prints its `a=` lines and a blank line, reads the peer's, then prints JSON event lines.
 */
export class LinePeer {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly events: Array<Record<string, unknown>> = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';

  constructor(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          this.events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push(line);
        }
      } else {
        this.lines.push(line);
      }
      for (const w of this.waiters) w();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child.on('exit', () => {
      for (const w of this.waiters) w();
    });
  }

  /** Resolves with the description lines printed before the first blank line. */
  // a peer from source under tsx costs ~2 s of CPU before it prints; at CI load (two cores, the suite in
  // parallel) its lines were seen after 11 s, so the wait is generous: a healthy run is no slower for it
  localLines(timeoutMs = 45_000): Promise<string[]> {
    return this.until(
      () => {
        const blank = this.lines.indexOf('');
        return blank >= 0 ? this.lines.slice(0, blank) : undefined;
      },
      timeoutMs,
      'local lines',
    );
  }

  /** Writes the peer's lines followed by a blank line. */
  writeRemote(lines: string[]): void {
    this.child.stdin!.write(`${lines.join('\n')}\n\n`);
  }

  /** Resolves with the first JSON event of that name (or rejects on an error event or exit). */
  waitFor(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return this.until(
      () => {
        const found = this.events.find((e) => e.event === event);
        if (found) return found;
        const error = this.events.find((e) => e.event === 'error');
        if (error) throw new Error(`peer reported error: ${JSON.stringify(error)}\n${this.stderr}`);
        if (this.child.exitCode !== null)
          throw new Error(`peer exited (${this.child.exitCode}) before ${event}\n${this.stderr}`);
        return undefined;
      },
      timeoutMs,
      event,
    );
  }

  /** Resolves with the exit code. */
  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Kills the process. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        try {
          const value = probe();
          if (value !== undefined) {
            finish();
            resolve(value);
          }
        } catch (err) {
          finish();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${what}\nstderr: ${this.stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * Cross-wires two peers: each one's local lines become the other's remote lines. `laterToAMs` > 0 hands `a` its
 * lines that much after `b` (an offerer waiting for the answer through a signalling server), < 0 hands `b` its
 * lines later; 0 hands both at once.
 */
export async function exchangeLines(a: LinePeer, b: LinePeer, laterToAMs = 0): Promise<void> {
  const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
  const [first, firstLines, second, secondLines] = laterToAMs >= 0 ? [b, la, a, lb] : [a, lb, b, la];
  first.writeRemote(firstLines);
  if (laterToAMs !== 0) await new Promise((resolve) => setTimeout(resolve, Math.abs(laterToAMs)));
  second.writeRemote(secondLines);
}

/** Spawns `ice-tcp` CLI peers and kills whichever are still running at `killAll()` (call it in afterEach). */
export class CliPeers {
  private peers: LinePeer[] = [];

  /** Starts `ice-tcp <args>` from source. */
  spawn(args: string[]): LinePeer {
    const [cmd, argv] = cliCommand(args);
    const peer = new LinePeer(cmd, argv);
    this.peers.push(peer);
    return peer;
  }

  /** Kills every peer spawned so far. */
  killAll(): void {
    for (const peer of this.peers) peer.kill();
    this.peers = [];
  }
}
