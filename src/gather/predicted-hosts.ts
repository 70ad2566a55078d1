import { isIPv6 } from 'node:net';
import { otherPreferenceOf } from '../candidate/factory.js';
import { GatherError } from '../errors.js';
import type { PendingLimits, ResynBudget } from '../transport/index.js';
import type { LocalEndpoint } from './endpoint.js';
import type { PortAllocation } from './nat-behaviour.js';
import { gatherSequentialPredicted } from './predicted-sequential.js';

/** The part of the gather options sequential prediction uses. */
export interface PredictionContext {
  stunServers: readonly { host: string; port: number }[];
  portRange?: { min: number; max: number };
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
  resynBudget?: ResynBudget;
  pending?: PendingLimits;
  /** The allocation measured behind each address (NAT evidence). */
  onAllocation?: (baseAddress: string, allocation: PortAllocation) => void;
}

/**
 * Runs sequential port prediction once per local address that has an S-O host candidate among `hostEndpoints`
 * (the caller passes those whose NAT did not preserve the port), against the first STUN server of the
 * address's family. Failures are returned: prediction is an extra, never a reason to fail.
 */
export async function predictSequentialForHosts(
  context: PredictionContext,
  hostEndpoints: readonly LocalEndpoint[],
  measuredPorts: ReadonlySet<number>,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<Error[]> {
  const errors: Error[] = [];
  const bases = hostEndpoints.filter((e) => e.kind === 'so' && e.candidate.type === 'host');
  await Promise.all(
    bases.map(async (e) => {
      const base = e.candidate;
      const server = context.stunServers.find(
        (s) => !/^[\d.:]+$/.test(s.host) || isIPv6(s.host) === isIPv6(base.baseAddress),
      );
      if (!server) return;
      try {
        await gatherSequentialPredicted(
          {
            server,
            baseAddress: base.baseAddress,
            otherPreference: otherPreferenceOf(base.priority),
            measuredPorts,
            portRange: context.portRange,
            timeoutMs: context.timeoutMs,
            signal: context.signal,
            nextId: context.nextId,
            resynBudget: context.resynBudget,
            pending: context.pending,
            onAllocation: (a) => context.onAllocation?.(base.baseAddress, a),
            baseSo: e.kind === 'so' ? e.port : undefined,
          },
          onEndpoint,
        );
      } catch (err) {
        errors.push(
          new GatherError(
            `port prediction via ${server.host}:${server.port} failed: ${(err as Error).message}`,
            {
              cause: err,
            },
          ),
        );
      }
    }),
  );
  return errors;
}
