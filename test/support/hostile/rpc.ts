/**
 * Request/response over a child process's IPC channel, so that the hostile harness can drive an agent (or an
 * attacker) in its own process and watch it crash without crashing itself.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root: children run from it so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Something the child reported on its own: an uncaught exception or an unhandled rejection. */
export interface CrashReport {
  event: 'crash';
  kind: 'uncaughtException' | 'unhandledRejection';
  name: string;
  code: string | undefined;
  message: string;
  stack: string;
}

type Handler = (args: never) => unknown;

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

function describe(err: unknown, kind: CrashReport['kind']): CrashReport {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return {
    event: 'crash',
    kind,
    name: e.name,
    code: typeof code === 'string' ? code : undefined,
    message: e.message,
    stack: e.stack ?? '',
  };
}

/**
 * Child side: answers requests with `handlers` and reports every uncaught exception and unhandled rejection
 * instead of dying, so that one run finds every distinct crash; each is also printed to stderr.
 */
export function serve(handlers: Record<string, Handler>): void {
  const report = (kind: CrashReport['kind']) => (err: unknown) => {
    const crash = describe(err, kind);
    process.stderr.write(`${JSON.stringify(crash)}\n`);
    process.send?.(crash);
  };
  process.on('uncaughtException', report('uncaughtException'));
  process.on('unhandledRejection', report('unhandledRejection'));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    const handler = handlers[req.cmd];
    const reply = (r: Omit<Reply, 'id'>) => process.send?.({ id: req.id, ...r });
    if (!handler) return reply({ ok: false, error: `unknown command ${req.cmd}` });
    Promise.resolve()
      .then(() => handler(req.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) =>
          reply({ ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
      );
  });
  process.send?.({ event: 'ready' });
}

/** Parent side of {@link serve}: a child process running one of the hostile support scripts. */
export class RpcChild {
  readonly child: ChildProcess;
  /** Every crash the child reported, in order. */
  readonly crashes: CrashReport[] = [];
  /** Everything the child wrote to stderr. */
  stderr = '';
  /** Exit code or signal, once it exited. */
  exit: string | undefined;

  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly ready: Promise<void>;

  /** Forks `script` (a path relative to this folder) under tsx. */
  constructor(script: string, execArgv: string[] = []) {
    this.child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 1_000_000) this.stderr += d.toString();
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (raw: unknown) => {
        const m = raw as Reply & { event?: string };
        if (m.event === 'ready') resolve();
        else if (m.event === 'crash') this.crashes.push(m as unknown as CrashReport);
        else {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.ok) p?.resolve(m.result);
          else p?.reject(new Error(m.error));
        }
      });
      this.child.on('exit', (code, signal) => {
        this.exit = signal ?? String(code);
        const err = new Error(`child exited (${this.exit}): ${this.stderr.slice(-2000)}`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
    this.ready.catch(() => {});
  }

  /** The child's pid. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends one request; rejects when the child answers with an error, exits, or takes longer than `timeoutMs`. */
  async call<T>(cmd: string, args: unknown = {}, timeoutMs = 30_000): Promise<T> {
    await this.ready;
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Ends the child (IPC disconnect, then SIGKILL after `graceMs`). */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exit !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Distinct crashes: one per name, code and the first source frames of the stack. */
export function distinctCrashes(crashes: readonly CrashReport[]): Array<CrashReport & { count: number }> {
  const byKey = new Map<string, CrashReport & { count: number }>();
  for (const c of crashes) {
    const frames = c.stack
      .split('\n')
      .filter((l) => l.trim().startsWith('at '))
      .slice(0, 4)
      .map((l) => l.replace(/:\d+:\d+\)?$/, ''))
      .join('|');
    const key = `${c.name}|${c.code}|${frames}`;
    const seen = byKey.get(key);
    if (seen) seen.count++;
    else byKey.set(key, { ...c, count: 1 });
  }
  return [...byKey.values()];
}
