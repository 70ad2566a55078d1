import net from 'node:net';
import type tls from 'node:tls';
import { abortReason } from '../errors.js';
import { openSocket } from '../transport/open-socket.js';
import type { TurnServerOptions } from './types.js';

/**
 * Opens a TCP (or TLS, `transport: 'tls'`) connection to the TURN server. Used for the control connection
 * and for every data connection (RFC 6062 §4.3), which must reach the same server address. The caller's
 * signal bounds the connect (a deadline aborts it); the socket is destroyed when it fails.
 */
export function openServerSocket(
  server: TurnServerOptions,
  localAddress: string | undefined,
  signal: AbortSignal,
): Promise<net.Socket> {
  const tlsOptions: tls.ConnectionOptions | undefined =
    server.transport === 'tls'
      ? {
          // SNI must be a host name, never an IP literal.
          servername: net.isIP(server.host) === 0 ? server.host : undefined,
          rejectUnauthorized: server.rejectUnauthorized ?? true,
          ca: server.ca,
        }
      : undefined;
  return openSocket({
    host: server.host,
    port: server.port,
    localAddress,
    signal,
    tls: tlsOptions,
    label: `TURN server ${server.host}:${server.port}`,
    abortError: abortReason,
  });
}
