import createDebug from 'debug';
import { makeLocalCandidate } from '../candidate/factory.js';
import type { LocalCandidate } from '../candidate/types.js';
import type { IceTcpError } from '../errors.js';
import { TurnAllocation, type TurnServerOptions } from '../turn/index.js';
import type { LocalEndpoint } from './endpoint.js';
import { RelayAllocation } from './relay-allocation.js';

const log = createDebug('ice-tcp:gather:relay');

/** What relay gathering needs. */
export interface RelayGatherOptions {
  servers: readonly TurnServerOptions[];
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
  maxFrameSize: number;
  /** Failures after gathering (refresh, permission) of an allocation that is in use. */
  onError: (error: IceTcpError) => void;
}

/**
 * Relayed candidates (RFC 6544 §5.3 with RFC 6062): one TCP allocation per TURN server, advertised as an
 * `active` candidate (port 9: it dials out through TURN Connect) and a `passive` one at the relayed address
 * (peers connect to it). Both take the mapped address of the control connection as related address.
 * A server that fails (wrong credentials, unreachable, no answer within `timeoutMs`) is an error in the
 * result, never a throw.
 */
export async function gatherRelay(
  options: RelayGatherOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<{ errors: Error[] }> {
  const errors: Error[] = [];
  await Promise.all(
    options.servers.map(async (server, index) => {
      let allocation: TurnAllocation;
      try {
        allocation = await TurnAllocation.allocate({
          ...server,
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        });
      } catch (err) {
        log('relay via %s:%d failed: %s', server.host, server.port, (err as Error).message);
        errors.push(err as Error);
        return;
      }
      const relay = new RelayAllocation(allocation, options.maxFrameSize, options.onError);
      const relayed = allocation.relayedAddress;
      const mapped = allocation.mappedAddress;
      // one relay per server: other-preference tells them apart
      const otherPreference = Math.max(0, 8191 - index);
      const make = (tcpType: 'active' | 'passive', port: number): LocalCandidate =>
        makeLocalCandidate({
          id: options.nextId(),
          type: 'relay',
          tcpType,
          address: relayed.address,
          port,
          baseAddress: relayed.address,
          basePort: port,
          otherPreference,
          serverAddress: server.host,
          ...(mapped ? { related: mapped } : {}),
        });
      onEndpoint({ kind: 'relay', candidate: make('active', 9), ...relay.handle('active') });
      onEndpoint({ kind: 'relay', candidate: make('passive', relayed.port), ...relay.handle('passive') });
    }),
  );
  return { errors };
}
