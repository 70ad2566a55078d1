import { access } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IceAgentOptions } from '../agent/options.js';
import { IceAgent } from '../agent.js';
import type { IceConnection } from '../connection/ice-connection.js';
import { attachSignaller } from '../signalling/attach.js';
import type { Signaller } from '../signalling/messages.js';
import { SdpLineSignaller } from '../signalling/stdio.js';
import { followFile } from './remote-lines.js';
import { signallerForRendezvous } from './rendezvous-hook.js';
import { splitAtBlankLine } from './stdin-split.js';

/** How a CLI command signals: copy-paste on stdin/stdout, a file the peer writes, or a rendezvous URL. */
export interface SessionOptions {
  command: string;
  agent: IceAgentOptions;
  /** `-` (`input`) or a file path. */
  remote: string;
  rendezvous?: string;
  /** stdin: the peer's lines with `--remote -`, then data. */
  input: Readable;
  /** Where our a= lines go (stdout). */
  output: Writable;
  /** Called with messages worth a warning (stderr). */
  warn: (message: string) => void;
}

/** A connected CLI session: the agent (close it when done) and its connection. */
export interface Session {
  agent: IceAgent;
  conn: IceConnection;
  /** When the peer's parameters arrived (performance.now()), for the `elapsedMs` report. */
  remoteAt: number;
  /** Stops the rendezvous client, if any. */
  close(): void;
}

async function waitForFile(path: string, signal: AbortSignal): Promise<void> {
  // the two-shell flow starts both sides at once: the peer's file appears when the peer has gathered
  while (!signal.aborted) {
    try {
      await access(path);
      return;
    } catch {
      await sleep(50, undefined, { signal }).catch(() => undefined);
    }
  }
}

function fileInput(path: string, signal: AbortSignal): Readable {
  const stream = followFile(path, signal);
  // followFile opens the file when first read: hold reading back until it exists
  stream.pause();
  waitForFile(path, signal).then(
    () => stream.resume(),
    () => undefined,
  );
  return stream;
}

/**
 * Starts the agent, signals through what the options name and resolves once a pair is nominated. When the
 * peer's lines come from `input` (stdin), reading stops after their blank line, so what follows is left in
 * `input` as data.
 */
export async function connectSession(options: SessionOptions): Promise<Session> {
  const agent = new IceAgent(options.agent);
  agent.on('error', (e) => options.warn(`warning: ${e.code}: ${e.message}`));
  const stopReading = new AbortController();
  let remoteAt = performance.now();
  let signaller: Signaller & { close?: () => void };
  if (options.rendezvous !== undefined) {
    signaller = await signallerForRendezvous(options.command, options.rendezvous);
  } else {
    const input =
      options.remote === '-'
        ? splitAtBlankLine(options.input).head
        : fileInput(options.remote, stopReading.signal);
    signaller = new SdpLineSignaller(input, options.output, (err) =>
      options.warn(`ignored remote line: ${(err as Error).message}`),
    );
  }
  signaller.onMessage((m) => {
    if (m.type === 'parameters') remoteAt = performance.now();
    if (m.type === 'end-of-candidates') stopReading.abort();
  });
  try {
    attachSignaller(agent, signaller, (err) => options.warn(`signalling: ${err.message}`));
    const conn = await agent.connect();
    return { agent, conn, remoteAt, close: () => signaller.close?.() };
  } catch (err) {
    signaller.close?.();
    agent.close();
    throw err;
  } finally {
    stopReading.abort();
  }
}
