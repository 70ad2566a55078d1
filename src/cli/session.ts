import { access } from 'node:fs/promises';
import type { Duplex, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IceAgentOptions } from '../agent/options.js';
import { warmUpCheckPath } from '../agent/warm-up.js';
import { IceAgent } from '../agent.js';
import type { IceConnection } from '../connection/ice-connection.js';
import { attachSignaller } from '../signalling/attach.js';
import type { Signaller, SignalMessage } from '../signalling/messages.js';
import { SdpLineSignaller } from '../signalling/stdio.js';
import { linePerTurn } from './line-turns.js';
import { followFile } from './remote-lines.js';
import { signallerForRendezvous } from './rendezvous-hook.js';
import { settleHeap } from './settle-heap.js';
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
 * The signaller with `observe` called before its one handler for each of the peer's messages. A signaller
 * keeps the messages that arrive before a handler and gives them to the first one that registers: a second
 * handler of our own would take them from the agent's (seen with the rendezvous, whose messages can all
 * arrive before the session subscribes), so the session watches through the agent's handler instead.
 */
export function tapMessages(signaller: Signaller, observe: (message: SignalMessage) => void): Signaller {
  return {
    send: (message) => signaller.send(message),
    onMessage: (handler) =>
      signaller.onMessage((message) => {
        observe(message);
        handler(message);
      }),
  };
}

/**
 * Starts the agent, signals through what the options name and resolves once a pair is nominated. When the
 * peer's lines come from `input` (stdin), reading stops after their blank line, so what follows is left in
 * `input` as data.
 */
export async function connectSession(options: SessionOptions): Promise<Session> {
  // before anything is published: a fresh process's first full collection would otherwise fall in its checks
  settleHeap();
  // no restart ever comes here: plain framing, so a peer that dies resets the stream at once rather than
  // leaving it waiting for a new path until consent expires (README, "Seamless path switch")
  const agent = new IceAgent({ streamResume: false, ...options.agent });
  agent.on('error', (e) => options.warn(`warning: ${e.code}: ${e.message}`));
  const stopReading = new AbortController();
  let remoteAt = performance.now();
  let signaller: Signaller & { close?: () => void };
  if (options.rendezvous !== undefined) {
    signaller = await signallerForRendezvous(options.command, options.rendezvous);
  } else {
    const input =
      options.remote === '-'
        ? linePerTurn(splitAtBlankLine(options.input).head)
        : fileInput(options.remote, stopReading.signal);
    signaller = new SdpLineSignaller(input, options.output, (err) =>
      options.warn(`ignored remote line: ${(err as Error).message}`),
    );
  }
  let remoteSeen = false;
  const observed = tapMessages(signaller, (m) => {
    // the first parameters only: the peer sends them again with its NAT tokens after its candidates
    if (m.type === 'parameters' && !remoteSeen) remoteAt = performance.now();
    if (m.type === 'parameters') remoteSeen = true;
    if (m.type === 'end-of-candidates') stopReading.abort();
  });
  // a fresh process would compile the check path between the peer's lines and connected: do it while gathering
  // waits for its STUN answers, in short steps, and not once the peer's lines are here
  agent.on('gathering-state', (state) => {
    if (state === 'gathering') void warmUpCheckPath(() => remoteSeen);
  });
  try {
    attachSignaller(agent, observed, (err) => options.warn(`signalling: ${err.message}`));
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

/** How long {@link peerReady} waits at most (ms): a peer that is done and silent must not hold us for ever. */
const PEER_READY_MAX_MS = 5000;

/**
 * Resolves once the peer's ICE is surely done, so that our FIN cannot break it: a FIN reaching a controlled
 * peer before its own check on the nominated pair was answered closes that connection and fails its ICE
 * (it learned our parameters late). Evidence: we answered a check of the peer on the selected pair (TCP
 * delivers that answer before our FIN), or the peer sent data (`heard()`) or ended: it does so only once
 * connected.
 */
export async function peerReady(session: Session, stream: Duplex, heard: () => boolean): Promise<void> {
  const answered = () => session.agent.getStats().pairs.some((p) => p.selected && p.checksReceived > 0);
  const deadline = performance.now() + PEER_READY_MAX_MS;
  while (
    !heard() &&
    !stream.readableEnded &&
    !stream.destroyed &&
    !answered() &&
    performance.now() < deadline
  )
    await sleep(10);
}
