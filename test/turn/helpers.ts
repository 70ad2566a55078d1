import { createHash } from 'node:crypto';
import type net from 'node:net';

/** Hex SHA-256 of a buffer. */
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Resolves with exactly the first `n` bytes that arrive on `socket`; rejects when it closes first, or (with
 * `withinMs`) when they have not all come by then, saying how many had: a stalled transfer fails with a
 * figure rather than at the test's own timeout.
 */
export function collect(socket: net.Socket, n: number, withinMs?: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const stop = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      clearTimeout(timer);
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      if (have >= n) {
        stop();
        resolve(Buffer.concat(chunks).subarray(0, n));
      }
    };
    const onClose = () => {
      stop();
      reject(new Error(`socket closed after ${have} of ${n} bytes`));
    };
    const timer =
      withinMs === undefined
        ? undefined
        : setTimeout(() => {
            stop();
            reject(new Error(`${have} of ${n} bytes after ${withinMs} ms (socket still open)`));
          }, withinMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
