import type net from 'node:net';
import createDebug from 'debug';
import { SocketError } from '../errors.js';
import { type OpenSocketOptions, openSocket } from './open-socket.js';

const log = createDebug('ice-tcp:transport:dial');

/**
 * How long each SYN of a connection to a server is given before a fresh socket on the same local port sends
 * the next one: attempts start at 0, 300, 900 and 2100 ms, so four SYNs fit in the default 3 s gather timeout
 * where the kernel's own retransmissions (1 s apart) fit three (docs/ARCHITECTURE.md, "Re-SYN to a server").
 */
export const SERVER_REDIAL_SCHEDULE_MS: readonly number[] = [300, 600, 1200];

/** Options of {@link openWithRedials}. */
export interface RedialOptions extends OpenSocketOptions {
  /** The whole budget: the last attempt gets what the schedule leaves of it. */
  timeoutMs: number;
  /** Each attempt's share before the next one starts; default {@link SERVER_REDIAL_SCHEDULE_MS}. */
  scheduleMs?: readonly number[];
}

/** Each attempt's time limit: the schedule cut to the budget, the rest to the last attempt. */
export function redialAttempts(timeoutMs: number, scheduleMs: readonly number[]): number[] {
  const attempts: number[] = [];
  let left = timeoutMs;
  for (const share of scheduleMs) {
    if (share <= 0 || share >= left) break;
    attempts.push(share);
    left -= share;
  }
  attempts.push(left);
  return attempts;
}

/**
 * Connects to a server, replacing a connection attempt that got no answer within its share of the schedule
 * by a fresh socket on the same local address and port, so a few lost SYNs cost hundreds of milliseconds
 * instead of the kernel's 1 s each, and the NAT's mapping stays that of this port (the same 5-tuple: one
 * conntrack entry, no extra flow for a sequential NAT to count). Only towards a server, which answers a SYN
 * with SYN-ACK: a replaced SYN's late SYN-ACK draws our RST, which ends the server's half-open connection.
 * Between peers a fresh ISN locks the 5-tuple out instead (docs/ARCHITECTURE.md, "Re-SYN with the same ISN").
 * Errors other than an attempt's own timeout (refused, aborted, ...) end it at once.
 */
export async function openWithRedials(
  options: RedialOptions,
  open: (o: OpenSocketOptions) => Promise<net.Socket> = openSocket,
): Promise<net.Socket> {
  const { scheduleMs, ...base } = options;
  const attempts = redialAttempts(options.timeoutMs, scheduleMs ?? SERVER_REDIAL_SCHEDULE_MS);
  for (const [i, timeoutMs] of attempts.entries()) {
    try {
      return await open({ ...base, timeoutMs });
    } catch (error) {
      const timedOut = error instanceof SocketError && error.syscallCode === 'ETIMEDOUT';
      if (!timedOut || options.signal?.aborted) throw error;
      if (i === attempts.length - 1) {
        throw new SocketError(
          `${options.label} timed out after ${options.timeoutMs} ms (${attempts.length} SYNs)`,
          'ETIMEDOUT',
          { cause: error },
        );
      }
      log('%s: no answer in %d ms, a fresh SYN from the same port', options.label, timeoutMs);
    }
  }
  // unreachable: the loop returns or throws on its last attempt
  throw new SocketError(`${options.label} made no attempt`);
}
