/** A progress line on a terminal: bytes, rate and the pair, redrawn in place at most twice a second. */
export interface Progress {
  update(sent: number, received: number): void;
  /** Clears the line (before the final report). */
  stop(): void;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Progress on stderr when it is a terminal and the output is not JSON; otherwise a no-op, so a pipe or a
 * script never sees it.
 */
export function progressLine(
  enabled: boolean,
  pair: string,
  stream: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean } = process.stderr,
): Progress {
  if (!enabled || !stream.isTTY) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  let last = 0;
  let shown = false;
  return {
    update(sent, received) {
      const now = performance.now();
      if (now - last < 500) return;
      last = now;
      const rate = (sent + received) / ((now - started) / 1000);
      stream.write(`\r\x1b[K${mb(sent)} sent, ${mb(received)} received, ${mb(rate)}/s, ${pair}`);
      shown = true;
    },
    stop() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
