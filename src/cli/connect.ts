import type { Duplex } from 'node:stream';
import type { IceAgentOptions } from '../agent/options.js';
import { predictedKind } from '../candidate/predicted.js';
import type { Candidate } from '../candidate/types.js';
import { bridgeStdio } from './bridge.js';
import type { CliIo } from './io.js';
import { progressLine } from './progress.js';
import { connectSession, peerReady, type Session } from './session.js';
import { transfer } from './transfer.js';

/** Options of `ice-tcp connect`. */
export interface ConnectCommandOptions {
  io: CliIo;
  agent: IceAgentOptions;
  remote: string;
  rendezvous?: string;
  sendBytes: number;
  expectBytes: number;
  echo: boolean;
  /** Hash the received bytes and report their SHA-256 (off by default: hashing is as slow as the connection). */
  sha256?: boolean;
  json: boolean;
}

/** A candidate as the `connected` event reports it. */
export function endpoint(c: Candidate) {
  const predicted = predictedKind(c);
  return {
    type: c.type,
    tcptype: c.tcpType,
    address: c.address,
    port: c.port,
    // a predicted candidate travels as srflx: say so, or a port-prediction success reads as a plain srflx one
    ...(predicted ? { predicted } : {}),
  };
}

/** `host so 10.0.0.1:5000 -> srflx so 203.0.113.5:5000`, for people. */
export function describePair(session: Session): string {
  const d = (c: Candidate) => `${c.type} ${c.tcpType} ${c.address}:${c.port}`;
  return `${d(session.conn.localCandidate)} -> ${d(session.conn.remoteCandidate)}`;
}

/** Whether either end of the selected pair is a TURN relay (RFC 6062: no half-close through coturn). */
function isRelayed(conn: { localCandidate: Candidate; remoteCandidate: Candidate }): boolean {
  return conn.localCandidate.type === 'relay' || conn.remoteCandidate.type === 'relay';
}

/**
 * Resolves at the first of `events` on the stream or after `ms`, whichever comes first, after calling `start`
 * (which may emit one of them at once); its listeners go with it.
 */
function firstOf(stream: Duplex, events: readonly string[], ms: number, start: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const e of events) stream.off(e, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const e of events) stream.once(e, done);
    start();
  });
}

/** Ends our direction and waits (at most 2 s) until it has left, or the stream is gone. */
function endAndFlush(stream: Duplex): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return firstOf(stream, ['finish', 'close'], 2000, () => stream.end());
}

/**
 * Waits (at most 5 s) for the peer's end: it ends once it has what it expects, and until then our agent must
 * stay to answer its checks and consent checks.
 */
function peerEnd(stream: Duplex): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return firstOf(stream, ['end', 'close'], 5000, () => stream.resume());
}

/**
 * The copy-paste peer: prints our `a=` lines and a blank line, reads the peer's, connects, then either moves
 * the bytes asked for (`--send-bytes`, `--expect-bytes`, `--echo`: JSON lines on stdout) or, with none of
 * them, bridges stdin and stdout over the connection like netcat (reports go to stderr).
 */
export async function runConnect(options: ConnectCommandOptions): Promise<number> {
  const { stdin, stdout, stderr } = options.io;
  const bridge = options.sendBytes === 0 && options.expectBytes === 0 && !options.echo;
  // in bridge mode stdout carries the peer's bytes, so our reports go to stderr
  const report = (value: Record<string, unknown>, text: string) => {
    if (!bridge) stdout.write(`${JSON.stringify(value)}\n`);
    else if (options.json) stderr.write(`${JSON.stringify(value)}\n`);
    else stderr.write(`ice-tcp: ${text}\n`);
  };
  const warn = (message: string) => {
    if (!options.json) stderr.write(`ice-tcp: ${message}\n`);
  };
  let session: Session | undefined;
  try {
    session = await connectSession({
      command: 'connect',
      agent: options.agent,
      remote: options.remote,
      rendezvous: options.rendezvous,
      input: stdin,
      output: stdout,
      warn,
    });
    const { conn } = session;
    const connected = {
      event: 'connected',
      elapsedMs: Math.round((performance.now() - session.remoteAt) * 10) / 10,
      local: endpoint(conn.localCandidate),
      remote: endpoint(conn.remoteCandidate),
    };
    report(connected, `connected: ${describePair(session)}`);
    const stream = conn.stream();
    if (bridge) {
      const result = await bridgeStdio(stream, stdin, stdout, (heard) => peerReady(session!, stream, heard));
      report(
        { event: 'done', ...result },
        `done: ${result.sentBytes} bytes sent, ${result.receivedBytes} received`,
      );
      return 0;
    }
    if (options.remote === '-' && options.rendezvous === undefined) stdin.destroy();
    const progress = progressLine(!options.json, describePair(session), stderr);
    const result = await transfer(stream, {
      sendBytes: options.sendBytes,
      expectBytes: options.expectBytes,
      echo: options.echo,
      sha256: options.sha256,
      onProgress: (s, r) => progress.update(s, r),
    });
    progress.stop();
    // Our FIN must not reach a peer still checking (peerReady). Through coturn, which has no half-close, our FIN
    // first would also cost the peer the bytes still in the relay: there the peer ends first. A direct pair
    // half-closes, so two senders FIN at once rather than each sit out the whole wait for the other's FIN.
    if (result.sentBytes > 0 && isRelayed(conn)) await peerEnd(stream);
    else await peerReady(session, stream, () => result.receivedBytes > 0);
    await endAndFlush(stream);
    if (result.sentBytes > 0) await peerEnd(stream);
    report(
      {
        event: 'done',
        ...result,
        megabytesPerSecond:
          result.seconds > 0
            ? Math.round(((result.sentBytes + result.receivedBytes) / result.seconds / 1e6) * 10) / 10
            : 0,
      },
      'done',
    );
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const value = { event: 'error', code: e.code ?? 'ERR_UNKNOWN', message: e.message ?? String(err) };
    report(value, `${value.code}: ${value.message}`);
    return 1;
  } finally {
    // an open stdin pipe would keep the process alive after the verdict
    stdin.destroy();
    session?.close();
    session?.agent.close();
  }
}
