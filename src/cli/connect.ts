import type { Readable } from 'node:stream';
import type { IceAgentOptions } from '../agent/options.js';
import { IceAgent } from '../agent.js';
import { predictedKind } from '../candidate/predicted.js';
import type { Candidate } from '../candidate/types.js';
import { attachSignaller } from '../signalling/attach.js';
import { SdpLineSignaller } from '../signalling/stdio.js';
import { followFile } from './remote-lines.js';
import { transfer } from './transfer.js';

/** Options of `ice-tcp connect`. */
export interface ConnectCommandOptions {
  agent: IceAgentOptions;
  remote: string;
  sendBytes: number;
  expectBytes: number;
  echo: boolean;
}

function endpoint(c: Candidate) {
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

function line(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * The copy-paste peer: prints our `a=` lines and a blank line, reads the peer's until a blank line or
 * `a=end-of-candidates`, connects, reports one JSON line, then moves the bytes asked for.
 */
export async function runConnect(options: ConnectCommandOptions): Promise<number> {
  const agent = new IceAgent(options.agent);
  // stderr, not stdout: stdout carries the a= lines the user pastes to the peer
  agent.on('error', (e) => process.stderr.write(`ice-tcp: warning: ${e.code}: ${e.message}\n`));
  const stopReading = new AbortController();
  let input: Readable = process.stdin;
  if (options.remote !== '-') input = followFile(options.remote, stopReading.signal);
  let remoteAt = 0;
  const signaller = new SdpLineSignaller(input, process.stdout, (err) =>
    process.stderr.write(`ignored remote line: ${(err as Error).message}\n`),
  );
  signaller.onMessage((m) => {
    if (m.type === 'parameters') remoteAt = performance.now();
    if (m.type === 'end-of-candidates') stopReading.abort();
  });
  try {
    attachSignaller(agent, signaller, (err) => process.stderr.write(`signalling: ${err.message}\n`));
    const conn = await agent.connect();
    stopReading.abort();
    if (input === process.stdin) process.stdin.pause();
    line({
      event: 'connected',
      elapsedMs: Math.round((performance.now() - remoteAt) * 10) / 10,
      local: endpoint(conn.localCandidate),
      remote: endpoint(conn.remoteCandidate),
    });
    const stream = conn.stream();
    const result = await transfer(stream, {
      sendBytes: options.sendBytes,
      expectBytes: options.expectBytes,
      echo: options.echo,
    });
    const relayed = conn.localCandidate.type === 'relay' || conn.remoteCandidate.type === 'relay';
    if (relayed && result.sentBytes > 0 && !stream.readableEnded) {
      // coturn has no half-close: our FIN makes it drop what it still buffers for the peer, so let the peer
      // (which ends once it has what it expects) end first
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        stream.once('end', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.resume();
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      stream.once('finish', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.end();
    });
    line({
      event: 'done',
      ...result,
      megabytesPerSecond:
        Math.round(((result.sentBytes + result.receivedBytes) / result.seconds / 1e6) * 10) / 10,
    });
    return 0;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    line({ event: 'error', code: e.code ?? 'ERR_UNKNOWN', message: e.message ?? String(err) });
    return 1;
  } finally {
    stopReading.abort();
    // an open stdin pipe would keep the process alive after the verdict
    if (input === process.stdin) process.stdin.destroy();
    agent.close();
  }
}
