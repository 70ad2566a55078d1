import createDebug from 'debug';
import { makeLocalCandidate } from '../candidate/factory.js';
import type { LocalCandidate, TcpType } from '../candidate/types.js';
import {
  PassiveListener,
  type PendingLimits,
  type ResynBudget,
  SimultaneousOpenPort,
} from '../transport/index.js';
import type { LocalAddress } from './addresses.js';
import type { LocalEndpoint } from './endpoint.js';
import { gatherMuxCandidates, type MuxGatherOptions } from './mux-candidates.js';

const log = createDebug('ice-tcp:gather:host');

/** Inputs of host gathering. */
export interface HostGatherOptions {
  addresses: readonly LocalAddress[];
  tcpTypes: readonly TcpType[];
  portRange?: { min: number; max: number };
  /** Returns a fresh local candidate id. */
  nextId: () => string;
  /** Shared by every S-O port of the agent (see ResynBudget). */
  resynBudget?: ResynBudget;
  /** Limits on each port's not yet authenticated inbound connections. */
  pending?: PendingLimits;
  /** Passive candidates on this shared port instead of a listener per address. */
  mux?: MuxGatherOptions;
  /** Largest RFC 4571 frame accepted on connections routed by the mux. */
  maxFrameSize?: number;
}

/**
 * Host candidates for every address (RFC 6544 §5.1): an active one (advertised with port 9, never listening),
 * a passive one on its own listening port, and an S-O one on another port that never listens first (Linux
 * refuses an outgoing bind on a port with a LISTEN socket: docs/ARCHITECTURE.md, LISTEN vs outgoing bind).
 * other-preference differs per address.
 */
export async function gatherHostCandidates(
  options: HostGatherOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<{ errors: Error[] }> {
  const errors: Error[] = [];
  const { mux } = options;
  if (mux !== undefined && options.tcpTypes.includes('passive')) {
    try {
      gatherMuxCandidates({ ...options, ...mux }, onEndpoint);
    } catch (err) {
      log('passive on the mux failed: %s', (err as Error).message);
      errors.push(err as Error);
    }
  }
  const tcpTypes = mux === undefined ? options.tcpTypes : options.tcpTypes.filter((t) => t !== 'passive');
  await Promise.all(
    options.addresses.map(async (local, index) => {
      const otherPreference = Math.max(0, 8191 - index);
      const make = (tcpType: TcpType, port: number): LocalCandidate =>
        makeLocalCandidate({
          id: options.nextId(),
          type: 'host',
          tcpType,
          address: local.address,
          port,
          baseAddress: local.address,
          basePort: port,
          otherPreference,
        });
      for (const tcpType of tcpTypes) {
        try {
          if (tcpType === 'active') {
            onEndpoint({ kind: 'active', candidate: make('active', 9) });
          } else if (tcpType === 'passive') {
            const listener = await PassiveListener.listen({
              ...options.pending,
              address: local.address,
              portRange: options.portRange,
            });
            onEndpoint({ kind: 'passive', candidate: make('passive', listener.port), listener });
          } else {
            const port = await SimultaneousOpenPort.open({
              ...options.pending,
              address: local.address,
              portRange: options.portRange,
              resynBudget: options.resynBudget,
            });
            onEndpoint({ kind: 'so', candidate: make('so', port.port), port });
          }
        } catch (err) {
          log('host %s %s failed: %s', tcpType, local.address, (err as Error).message);
          errors.push(err as Error);
        }
      }
    }),
  );
  return { errors };
}
