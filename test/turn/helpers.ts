import { createHash } from 'node:crypto';
import type net from 'node:net';

/** Hex SHA-256 of a buffer. */
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Resolves with exactly the first `n` bytes that arrive on `socket`. */
export function collect(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      if (have >= n) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(Buffer.concat(chunks).subarray(0, n));
      }
    };
    const onClose = () => reject(new Error(`socket closed after ${have} of ${n} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
