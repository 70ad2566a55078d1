import { isIPv6 } from 'node:net';
import createDebug from 'debug';
import { makeLocalCandidate, otherPreferenceOf } from '../candidate/factory.js';
import type { TcpType } from '../candidate/types.js';
import { GatherError, StunTransactionError } from '../errors.js';
import {
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
} from '../stun/index.js';
import { StunServerConnection } from '../transport/stun-server-connection.js';
import type { LocalEndpoint } from './endpoint.js';

const log = createDebug('ice-tcp:gather:srflx');

/** A STUN server used to learn server-reflexive candidates (STUN over TCP, RFC 8489 §6.2.2). */
export interface StunServerAddress {
  host: string;
  port: number;
}

/** Asks a STUN server, over TCP from `localPort`, which public address that port maps to. */
export async function queryMapping(options: {
  server: StunServerAddress;
  localAddress: string;
  localPort?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<{ mapped: TransportAddress; connection: StunServerConnection; message: StunMessage }> {
  const connection = await StunServerConnection.connect({
    host: options.server.host,
    port: options.server.port,
    localAddress: options.localAddress,
    localPort: options.localPort,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  // an abort (the agent closed) ends the wait for the answer at once: resetting fails the pending request
  const onAbort = () => connection.reset();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const builder = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
    const reply = await connection.request(builder.build({ fingerprint: true }), options.timeoutMs);
    const message = StunMessage.decode(reply);
    if (!message.transactionId.equals(builder.transactionId))
      throw new StunTransactionError('wrong transaction id');
    if (message.hasFingerprint() && !message.verifyFingerprint())
      throw new StunTransactionError('bad FINGERPRINT');
    if (message.isError()) {
      const e = message.errorCode();
      throw new StunTransactionError(`STUN error ${e?.code ?? '?'} ${e?.reason ?? ''}`.trim(), e?.code);
    }
    const mapped = message.xorMappedAddress() ?? message.mappedAddress();
    if (!message.isSuccess() || !mapped) throw new StunTransactionError('answer without a mapped address');
    return { mapped, connection, message };
  } catch (err) {
    connection.reset();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** One S-O port's answer from a STUN server while gathering (NAT evidence: gather/nat-evidence.ts). */
export interface MappingObservation {
  baseAddress: string;
  basePort: number;
  server: StunServerAddress;
  mapped: TransportAddress;
  /** The server's RFC 5780 OTHER-ADDRESS, if it sent one. */
  other?: TransportAddress;
}

/** What server-reflexive gathering needs. */
export interface ServerReflexiveOptions {
  servers: readonly StunServerAddress[];
  /** The host endpoints gathered so far (the S-O ones are queried; active/passive ones get derived candidates). */
  hostEndpoints: readonly LocalEndpoint[];
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
  /** Every answer, the port's own address included (NAT evidence: gather/nat-evidence.ts). */
  onMapping?: (o: MappingObservation) => void;
}

/**
 * Server-reflexive candidates (RFC 6544 §5.2): each S-O port asks the STUN server from that same port and is
 * advertised at its mapping as an `srflx so` candidate; the server connection stays open while the agent
 * lives, so the NAT keeps the mapping. An `srflx active` candidate is derived for the same public address.
 * When the NAT preserved the port, the passive listener's port is predicted to be preserved too (Node cannot
 * dial from a listening port to probe it): an `srflx passive` candidate marked `x-ice-tcp-predicted preserve`.
 */
export async function gatherServerReflexive(
  options: ServerReflexiveOptions,
  onEndpoint: (endpoint: LocalEndpoint) => void,
): Promise<{ errors: Error[]; connections: StunServerConnection[] }> {
  const errors: Error[] = [];
  const connections: StunServerConnection[] = [];
  const seen = new Set<string>();
  await Promise.all(
    options.hostEndpoints.map(async (endpoint) => {
      if (endpoint.kind !== 'so') return;
      const base = endpoint.candidate;
      for (const server of options.servers) {
        if (isIPv6(server.host) !== isIPv6(base.baseAddress) && isIpLiteral(server.host)) continue;
        try {
          const { mapped, connection, message } = await queryMapping({
            server,
            localAddress: base.baseAddress,
            localPort: base.basePort,
            timeoutMs: options.timeoutMs,
            signal: options.signal,
          });
          connections.push(connection);
          const { baseAddress, basePort } = base;
          options.onMapping?.({ baseAddress, basePort, server, mapped, other: message.otherAddress() });
          if (mapped.address === base.baseAddress && mapped.port === base.basePort) continue; // no NAT here
          const key = `${mapped.address}:${mapped.port}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const make = (tcpType: TcpType, port: number, basePort: number, predicted?: 'preserve') =>
            makeLocalCandidate({
              id: options.nextId(),
              type: 'srflx',
              tcpType,
              address: mapped.address,
              port,
              baseAddress: base.baseAddress,
              basePort,
              otherPreference: otherPreferenceOf(base.priority),
              serverAddress: server.host,
              related: { address: base.baseAddress, port: basePort },
              ...(predicted ? { predicted } : {}),
            });
          onEndpoint({ kind: 'so', candidate: make('so', mapped.port, base.basePort), port: endpoint.port });
          for (const other of options.hostEndpoints) {
            if (other.candidate.baseAddress !== base.baseAddress) continue;
            if (other.kind === 'active') {
              onEndpoint({ kind: 'active', candidate: make('active', 9, 9) });
            } else if (other.kind === 'passive' && mapped.port === base.basePort) {
              const port = other.candidate.basePort;
              const predicted = make('passive', port, port, 'preserve');
              onEndpoint({ kind: 'passive', candidate: predicted, listener: other.listener });
            }
          }
        } catch (err) {
          log(
            'srflx from %s:%d via %s:%d failed: %s',
            base.baseAddress,
            base.basePort,
            server.host,
            server.port,
            err,
          );
          errors.push(
            new GatherError(
              `STUN server ${server.host}:${server.port} gave no mapping: ${(err as Error).message}`,
              {
                cause: err,
              },
            ),
          );
        }
      }
    }),
  );
  return { errors, connections };
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
