import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { patternChunk } from './pattern.js';

/** One full RFC 4571 frame per write: 64 KiB would cost a 65535-byte frame plus a 1-byte one. */
const CHUNK = 65535;

/** Result of moving bytes over a stream. */
export interface TransferResult {
  sentBytes: number;
  receivedBytes: number;
  seconds: number;
  sha256Received: string;
}

/**
 * Sends `sendBytes` bytes of the pattern (honouring backpressure) while receiving until `expectBytes` arrived
 * (or the peer ended); with `echo`, every received byte is written back.
 */
export function transfer(
  stream: Duplex,
  options: { sendBytes: number; expectBytes: number; echo: boolean },
): Promise<TransferResult> {
  const started = performance.now();
  const hash = createHash('sha256');
  let received = 0;
  let sent = 0;
  return new Promise((resolve, reject) => {
    let sendingDone = options.sendBytes === 0;
    let receivingDone = options.expectBytes === 0 && !options.echo;
    const finish = () => {
      if (!sendingDone || !receivingDone) return;
      resolve({
        sentBytes: sent,
        receivedBytes: received,
        seconds: (performance.now() - started) / 1000,
        sha256Received: hash.digest('hex'),
      });
    };
    stream.on('error', reject);
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash.update(chunk);
      if (options.echo && !stream.write(chunk)) {
        stream.pause();
        stream.once('drain', () => stream.resume());
      }
      if (options.expectBytes > 0 && received >= options.expectBytes && !receivingDone) {
        receivingDone = true;
        finish();
      }
    });
    stream.on('end', () => {
      if (!receivingDone) {
        receivingDone = true;
        if (options.expectBytes > received) {
          reject(new Error(`peer ended after ${received} of ${options.expectBytes} bytes`));
          return;
        }
        finish();
      }
    });
    const pump = () => {
      while (sent < options.sendBytes) {
        const n = Math.min(CHUNK, options.sendBytes - sent);
        const ok = stream.write(patternChunk(sent, n));
        sent += n;
        if (!ok) {
          stream.once('drain', pump);
          return;
        }
      }
      if (!sendingDone) {
        sendingDone = true;
        finish();
      }
    };
    pump();
  });
}
