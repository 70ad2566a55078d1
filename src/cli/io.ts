import type { Readable, Writable } from 'node:stream';

/**
 * What a run of `ice-tcp` reads, writes and stops on. The binary passes the process's ({@link processIo}); a
 * test passes streams and a stop of its own, so that a command runs in the test's process and its code is
 * measured there.
 */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  /** `isTTY` decides whether the progress line is drawn. */
  stderr: Writable & { isTTY?: boolean };
  /**
   * Resolves when a command that runs until stopped (stun-server, rendezvous, tunnel) should stop: SIGINT or
   * SIGTERM for the process. Called once per run by such a command; the others never call it, so Ctrl-C still
   * ends them the usual way.
   */
  stopped(): Promise<void>;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The process's stdio and signals: what the `ice-tcp` binary runs with. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, stopped: signalled };
}

/** Writes one line (a JSON object or text) to `out`. */
export function writeLine(out: Writable, line: string): void {
  out.write(`${line}\n`);
}
