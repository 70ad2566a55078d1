import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A readable over a file that may still be growing (the peer is writing it): polls for new bytes until
 * `signal` aborts, the way `tail -f` does. The reader stops consuming once it has what it needs.
 */
export function followFile(path: string, signal: AbortSignal, pollMs = 25): Readable {
  async function* chunks() {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      let position = 0;
      while (!signal.aborted) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, position);
        if (bytesRead > 0) {
          position += bytesRead;
          yield Buffer.from(buf.subarray(0, bytesRead));
        } else {
          await sleep(pollMs, undefined, { signal }).catch(() => undefined);
        }
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(chunks());
}
