/**
 * What a worker of bench/throughput-2p.ts counts during one run besides CPU time: socket reads (every
 * net.Socket push, ICE's own socket included, plus `onread` callbacks), minor page faults (Node's read path
 * allocates a fresh 64 KiB Buffer per read, and faulting its pages in is dear on this VM) and whole garbage
 * collections.
 */
import { Socket } from 'node:net';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** The counters of one run. */
export interface RunCounts {
  reads: number;
  faults: number;
  /** Scavenges, mark-compacts, and their total milliseconds. */
  gc: [number, number, number];
}

let reads = 0;
let faultsStart = 0;
let gcMinor = 0;
let gcMajor = 0;
let gcMs = 0;

const push = Socket.prototype.push;
Socket.prototype.push = function countedPush(this: Socket, ...args: Parameters<Socket['push']>) {
  reads++;
  return push.apply(this, args);
};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    // incremental marking steps and weak-callback passes are entries too: count only whole collections
    if (kind & constants.NODE_PERFORMANCE_GC_MINOR) gcMinor++;
    else if (kind & constants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
    else continue;
    gcMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

/** A read that did not go through `push` (an `onread` callback). */
export function countRead(): void {
  reads++;
}

/** Zeroes the counters: a run starts. */
export function startCounts(): void {
  reads = 0;
  faultsStart = process.resourceUsage().minorPageFault;
  gcMinor = 0;
  gcMajor = 0;
  gcMs = 0;
}

/** The counters since {@link startCounts}. */
export function runCounts(): RunCounts {
  return {
    reads,
    faults: process.resourceUsage().minorPageFault - faultsStart,
    gc: [gcMinor, gcMajor, Math.round(gcMs)],
  };
}
