import v8 from 'node:v8';
import vm from 'node:vm';
import createDebug from 'debug';

const log = createDebug('ice-tcp:cli');

/** Once per process: only a fresh process carries its start-up's garbage into its first connect. */
let settled = false;

/**
 * glibc's ceiling for its dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX, mallopt(3)). Freeing
 * an mmapped block no larger than this raises the mmap threshold to the block's size and the trim threshold to
 * twice that; the block asked for stays a page-rounded header below it.
 */
const GLIBC_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024;
/** The block settleHeap lets go of: under the ceiling with its header and page rounding. */
const THRESHOLD_BLOCK_BYTES = GLIBC_MMAP_THRESHOLD_MAX - 64 * 1024;

/**
 * One full garbage collection, once per process, before a CLI session publishes anything. A fresh CLI
 * reaches V8's first full collection 100-300 ms after it starts, from the garbage of loading its modules
 * and gathering: that is during its first checks, where a 9-17 ms pause measured delays a simultaneous open
 * whose SYNs must cross within one one-way delay (docs/NAT-MATRIX.md). Collected here, while no peer can
 * know us yet, the pause costs start-up time instead and the next full collection comes much later. Node
 * exposes no collector call without `--expose-gc`, so the flag is set for one new context that hands out
 * its `gc` (the process's own globals stay as they were). Returns the pause in ms, or undefined when it
 * already ran or V8 refused.
 *
 * The collection also frees a block allocated just before it, just under glibc's 32 MiB ceiling for its
 * dynamic mmap threshold, which makes glibc keep up to 64 MiB of freed heap instead of returning it at
 * 128 KiB. Node reads a socket into a fresh 64 KiB buffer per read; with the default threshold glibc gave
 * those pages back after each collection and the next reads faulted them in again: a receiving CLI spent
 * most of its time in the kernel (41,000-54,000 page faults for 512 MiB against 15,800, and 415-553 against
 * 1,052-1,230 MB/s; docs/BENCHMARKS.md, "The CLI's transfer").
 * Elsewhere (musl, macOS) the block is only allocated and freed.
 */
export function settleHeap(): number | undefined {
  if (settled) return undefined;
  settled = true;
  // started with --expose-gc: use it, and leave the flag as the user set it
  const exposed = (globalThis as { gc?: () => void }).gc;
  try {
    if (!exposed) v8.setFlagsFromString('--expose-gc');
    const gc = exposed ?? (vm.runInNewContext('gc') as () => void);
    // unreferenced at once: the collection below frees it (mmapped, so glibc adjusts its thresholds then)
    Buffer.allocUnsafeSlow(THRESHOLD_BLOCK_BYTES);
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
