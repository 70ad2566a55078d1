import v8 from 'node:v8';
import vm from 'node:vm';
import createDebug from 'debug';

const log = createDebug('ice-tcp:cli');

/** Once per process: only a fresh process carries its start-up's garbage into its first connect. */
let settled = false;

/**
 * One full garbage collection, once per process, before a CLI session publishes anything. A fresh CLI
 * reaches V8's first full collection 100-300 ms after it starts, from the garbage of loading its modules
 * and gathering: that is during its first checks, where a 9-17 ms pause measured delays a simultaneous open
 * whose SYNs must cross within one one-way delay (README, "The NAT matrix"). Collected here, while no peer can
 * know us yet, the pause costs start-up time instead and the next full collection comes much later. Node
 * exposes no collector call without `--expose-gc`, so the flag is set for one new context that hands out
 * its `gc` (the process's own globals stay as they were). Returns the pause in ms, or undefined when it
 * already ran or V8 refused.
 */
export function settleHeap(): number | undefined {
  if (settled) return undefined;
  settled = true;
  // started with --expose-gc: use it, and leave the flag as the user set it
  const exposed = (globalThis as { gc?: () => void }).gc;
  try {
    if (!exposed) v8.setFlagsFromString('--expose-gc');
    const gc = exposed ?? (vm.runInNewContext('gc') as () => void);
    const started = performance.now();
    gc();
    const ms = performance.now() - started;
    log('start-up garbage collected in %s ms', ms.toFixed(1));
    return ms;
  } catch (err) {
    log('no garbage collection at start-up: %s', (err as Error).message);
    return undefined;
  } finally {
    if (!exposed) v8.setFlagsFromString('--no-expose-gc');
  }
}
