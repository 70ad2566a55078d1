import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ClosedError } from '../errors.js';
import { patternChunk } from './pattern.js';

/**
 * Whole RFC 4571 frames per write (64 KiB would cost a 65535-byte frame plus a 1-byte one), and about 1 MB of
 * them: a small write costs the CLI more per byte than the connection does, and its rate should be the latter's.
 */
const CHUNK = 15 * 65535;

/** Result of moving bytes over a stream. */
export interface TransferResult {
  sentBytes: number;
  receivedBytes: number;
  seconds: number;
  /** With `sha256` only: hashing runs at about the speed of the connection, so measuring one would measure it. */
  sha256Received?: string;
}

/** What {@link transfer} moves; `onProgress` is called with the running counts (for the TTY progress line). */
export interface TransferOptions {
  sendBytes: number;
  expectBytes: number;
  echo: boolean;
  /** Hash the received bytes (SHA-256) and report the digest. */
  sha256?: boolean;
  onProgress?: (sent: number, received: number) => void;
}

/**
 * Sends `sendBytes` bytes of the pattern (honouring backpressure) while receiving until `expectBytes` arrived
 * (or the peer ended); with `echo`, every received byte is written back and counts as sent. Bytes the peer
 * sends after the verdict (an acknowledgement, say) are read and ignored: the hash is final by then.
 */
export function transfer(stream: Duplex, options: TransferOptions): Promise<TransferResult> {
  // the clock starts with the first byte moved either way, so the rate is the connection's, not our start-up's
  let started: number | undefined;
  const hash = options.sha256 === true ? createHash('sha256') : undefined;
  let received = 0;
  let sent = 0;
  return new Promise((resolve, reject) => {
    let sendingDone = options.sendBytes === 0;
    let receivingDone = options.expectBytes === 0 && !options.echo;
    let settled = false;
    const detach = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      // keep the stream flowing so late bytes never fill the buffers and stall the peer's close
      stream.on('data', () => {});
      // after the verdict a reset is the peer hanging up, not a failure of the transfer
      stream.on('error', () => {});
    };
    const finish = () => {
      if (settled || !sendingDone || !receivingDone) return;
      settled = true;
      detach();
      resolve({
        sentBytes: sent,
        receivedBytes: received,
        seconds: started === undefined ? 0 : (performance.now() - started) / 1000,
        ...(hash && { sha256Received: hash.digest('hex') }),
      });
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      detach();
      reject(err);
    };
    const onError = (err: Error) => fail(err);
    const onData = (chunk: Buffer) => {
      started ??= performance.now();
      received += chunk.length;
      hash?.update(chunk);
      if (options.echo) {
        sent += chunk.length;
        if (!stream.write(chunk)) {
          stream.pause();
          stream.once('drain', () => stream.resume());
        }
      }
      options.onProgress?.(sent, received);
      if (options.expectBytes > 0 && received >= options.expectBytes && !receivingDone) {
        receivingDone = true;
        finish();
      }
    };
    const onEnd = () => {
      if (receivingDone) return;
      receivingDone = true;
      if (options.expectBytes > received) {
        fail(new ClosedError(`peer ended after ${received} of ${options.expectBytes} bytes`));
        return;
      }
      finish();
    };
    stream.on('error', onError);
    stream.on('data', onData);
    stream.on('end', onEnd);
    const pump = () => {
      started ??= performance.now();
      while (sent < options.sendBytes && !settled) {
        const n = Math.min(CHUNK, options.sendBytes - sent);
        const ok = stream.write(patternChunk(sent, n));
        sent += n;
        options.onProgress?.(sent, received);
        if (!ok) {
          stream.once('drain', pump);
          return;
        }
      }
      sendingDone = true;
      finish();
    };
    pump();
  });
}
