import { isIPv6 } from 'node:net';
import createDebug from 'debug';
import { computeFoundation } from '../candidate/foundation.js';
import { PREDICTED_EXTENSION } from '../candidate/predicted.js';
import { candidatePriority } from '../candidate/priority.js';
import type { LocalCandidate } from '../checklist/index.js';
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

const log = createDebug('ice-tcp:gather');

/** Asks a STUN server, over TCP from `localPort`, which public address that port maps to. */
export async function queryMapping(options: {
  server: { host: string; port: number };
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
  }
}

/** What server-reflexive gathering needs. */
export interface ServerReflexiveOptions {
  servers: readonly { host: string; port: number }[];
  /** The host endpoints gathered so far (the S-O ones are queried; active/passive ones get derived candidates). */
  hostEndpoints: readonly LocalEndpoint[];
  timeoutMs: number;
  signal?: AbortSignal;
  nextId: () => string;
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
          const { mapped, connection } = await queryMapping({
            server,
            localAddress: base.baseAddress,
            localPort: base.basePort,
            timeoutMs: options.timeoutMs,
            signal: options.signal,
          });
          connections.push(connection);
          if (mapped.address === base.baseAddress && mapped.port === base.basePort) continue; // no NAT here
          const key = `${mapped.address}:${mapped.port}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const otherPreference = (base.priority >> 8) & 0x1fff;
          const make = (
            tcpType: 'so' | 'active' | 'passive',
            port: number,
            basePort: number,
            relatedPort: number,
          ) =>
            ({
              id: options.nextId(),
              foundation: computeFoundation({
                type: 'srflx',
                baseAddress: base.baseAddress,
                serverAddress: server.host,
                tcpType,
              }),
              component: 1,
              transport: 'TCP',
              priority: candidatePriority({ type: 'srflx', tcpType, otherPreference }),
              address: mapped.address,
              port,
              type: 'srflx',
              tcpType,
              relatedAddress: base.baseAddress,
              relatedPort,
              extensions: [] as Array<[string, string]>,
              baseAddress: base.baseAddress,
              basePort,
            }) satisfies LocalCandidate;
          onEndpoint({
            kind: 'so',
            candidate: make('so', mapped.port, base.basePort, base.basePort),
            port: endpoint.port,
          });
          for (const other of options.hostEndpoints) {
            if (other.candidate.baseAddress !== base.baseAddress) continue;
            if (other.kind === 'active') {
              onEndpoint({ kind: 'active', candidate: make('active', 9, 9, 9) });
            } else if (other.kind === 'passive' && mapped.port === base.basePort) {
              const port = other.candidate.basePort;
              const predicted = make('passive', port, port, port);
              predicted.priority = candidatePriority({
                type: 'srflx',
                tcpType: 'passive',
                predicted: true,
                otherPreference,
              });
              predicted.extensions.push([PREDICTED_EXTENSION, 'preserve']);
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
