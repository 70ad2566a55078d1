/**
 * The lab's side of a running delay line (fixtures/delay-line.py): waits for its `ready` and asks it, on
 * SIGUSR1, for what it measured.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Median, 99th percentile and maximum of one measure, in ms. */
export interface DelayLineQuantiles {
  median: number;
  p99: number;
  max: number;
}

/** What one delay line measured since it started (null: no frame yet). */
export interface DelayLineStats {
  /** Frames held and forwarded (ARP, passed at once, not counted). */
  frames: number;
  /** ARP frames, passed at once: address resolution is the link's, not the emulated path's. */
  arp: number;
  /** It runs SCHED_FIFO: wakes when a frame is due even on a loaded machine. */
  realtime: boolean;
  /** Kernel receive stamp to our read: does not add to the hold (frames are due from the stamp). */
  readLagMs: DelayLineQuantiles | null;
  /** Sent after the frame was due: this does add to the hold. */
  sendLateMs: DelayLineQuantiles | null;
}

/** A delay line that said `ready`. */
export interface DelayLineChild {
  readonly namespace: string;
  /** Its measurements so far. */
  stats(): Promise<DelayLineStats>;
}

/** Resolves once `child` (the delay line in `namespace`) prints `ready`; rejects if it exits or says anything else. */
export function readyDelayLine(namespace: string, child: ChildProcess): Promise<DelayLineChild> {
  const lines: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  let exited = false;
  const deliver = (line: string | undefined) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else if (line !== undefined) lines.push(line);
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', deliver);
  child.once('exit', () => {
    exited = true;
    while (waiters.length > 0) deliver(undefined);
  });
  const nextLine = () =>
    new Promise<string | undefined>((resolve) => {
      const line = lines.shift();
      if (line !== undefined || exited) resolve(line);
      else waiters.push(resolve);
    });
  const line = (what: string) =>
    nextLine().then((l) => {
      if (l === undefined) throw new Error(`lab: the delay line in ${namespace} exited before ${what}`);
      return l;
    });
  return line('it was ready').then((first) => {
    if (first !== 'ready') throw new Error(`lab: the delay line in ${namespace} said ${first}`);
    return {
      namespace,
      async stats() {
        child.kill('SIGUSR1');
        return JSON.parse(await line('its stats')) as DelayLineStats;
      },
    };
  });
}
