import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/main.js';

/**
 * `ice-tcp <argv>` run in the test's own process (src/cli/main.ts with streams of its own), so that coverage
 * sees the CLI's code; the child-process tests prove the binary itself. The same reading helpers as
 * LinePeer (test/support/line-peer.ts): a= lines up to the first blank line, JSON event lines, the exit code.
 */
export class InProcessCli {
  readonly stdin = new PassThrough();
  private readonly out = new PassThrough();
  private readonly err = new PassThrough();
  /** Everything written to stdout, bytes as they came (the peer's data in bridge mode). */
  stdoutBytes = Buffer.alloc(0);
  stderr = '';
  /** The exit code once the run has finished. */
  code: number | undefined;
  readonly done: Promise<number>;
  private readonly waiters = new Set<() => void>();
  private stopRun: () => void = () => {};
  private readonly stopping: Promise<void>;

  constructor(argv: string[]) {
    this.stopping = new Promise((resolve) => {
      this.stopRun = resolve;
    });
    this.out.on('data', (d: Buffer) => {
      this.stdoutBytes = Buffer.concat([this.stdoutBytes, d]);
      this.wake();
    });
    this.err.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    const io: CliIo = { stdin: this.stdin, stdout: this.out, stderr: this.err, stopped: () => this.stopping };
    this.done = runCli(argv, io).then((code) => {
      this.code = code;
      this.wake();
      return code;
    });
  }

  /** stdout as text. */
  get stdout(): string {
    return this.stdoutBytes.toString();
  }

  /** What stdout carried after our a= lines and their blank line. */
  data(): Buffer {
    return this.stdoutBytes.subarray(this.stdoutBytes.indexOf('\n\n') + 2);
  }

  /** JSON lines printed on stdout so far (complete lines only). */
  events(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves with the a= lines printed before the first blank line. */
  localLines(timeoutMs = 15_000): Promise<string[]> {
    return this.until(
      () => {
        const lines = this.stdout.split('\n');
        const blank = lines.indexOf('');
        return blank >= 0 && blank < lines.length - 1 ? lines.slice(0, blank) : undefined;
      },
      timeoutMs,
      'local lines',
    );
  }

  /** Resolves with the first stdout line matching `pattern` (text output). */
  waitForLine(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return this.until(
      () => {
        if (this.code !== undefined)
          throw new Error(`exited (${this.code}) before ${pattern}\n${this.stderr}`);
        return this.stdout.split('\n').find((l) => pattern.test(l));
      },
      timeoutMs,
      String(pattern),
    );
  }

  /** Writes the peer's lines followed by a blank line. */
  writeRemote(lines: string[]): void {
    this.stdin.write(`${lines.join('\n')}\n\n`);
  }

  /** Resolves with the first JSON event of that name; rejects on an error event or once the run has ended. */
  waitFor(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return this.until(
      () => {
        const events = this.events();
        const found = events.find((e) => e.event === event);
        if (found) return found;
        const error = events.find((e) => e.event === 'error');
        if (error) throw new Error(`reported error: ${JSON.stringify(error)}\n${this.stderr}`);
        if (this.code !== undefined) throw new Error(`exited (${this.code}) before ${event}\n${this.stderr}`);
        return undefined;
      },
      timeoutMs,
      event,
    );
  }

  /** What SIGINT is to the binary: a server or a tunnel stops and reports. */
  stop(): void {
    this.stopRun();
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        try {
          const value = probe();
          if (value === undefined) return;
          finish();
          resolve(value);
        } catch (err) {
          finish();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
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

/** Starts in-process runs and, at `settle()` (call it in afterEach), stops them all and waits for them to end. */
export class InProcessRuns {
  private runs: InProcessCli[] = [];

  /** Starts `ice-tcp <argv>` in this process. */
  start(argv: string[]): InProcessCli {
    const run = new InProcessCli(argv);
    this.runs.push(run);
    return run;
  }

  /**
   * Stops every run and waits for it to end. A connect still waiting for its peer ends at its --timeout (the
   * tests pass a short one), as the binary would; a run that outlives `ms` fails the test that left it.
   */
  async settle(ms = 40_000): Promise<void> {
    const runs = this.runs.splice(0);
    for (const run of runs) {
      run.stop();
      run.stdin.end();
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`an in-process ice-tcp run outlived ${ms} ms`)), ms);
    });
    try {
      await Promise.race([Promise.all(runs.map((r) => r.done)), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs `ice-tcp <argv>` in this process with `input` on stdin (then EOF) and resolves once it has finished. */
export async function runInProcess(
  argv: string[],
  input = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = new InProcessCli(argv);
  run.stdin.end(input);
  const code = await run.done;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** Cross-wires two runs: each one's local lines become the other's remote lines. */
export async function exchangeRunLines(a: InProcessCli, b: InProcessCli): Promise<void> {
  const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
  a.writeRemote(lb);
  b.writeRemote(la);
}
