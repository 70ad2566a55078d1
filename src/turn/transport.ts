import net from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import { SocketError } from '../errors.js';
import { abortReason } from './errors.js';
import type { TurnServerConfig } from './types.js';

const log = createDebug('ice-tcp:turn');

/**
 * Opens a TCP (or TLS, `transport: 'tls'`) connection to the TURN server. Used for the control connection
 * and for every data connection (RFC 6062 §4.3), which must reach the same server address.
 */
export function openServerSocket(
  server: TurnServerConfig,
  localAddress: string | undefined,
  signal: AbortSignal,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const useTls = server.transport === 'tls';
    // tls.connect passes socket options such as localAddress on to net; its types just do not list them.
    const tlsOptions: tls.ConnectionOptions & { localAddress?: string; autoSelectFamily?: boolean } = {
      host: server.host,
      port: server.port,
      localAddress,
      // Same as plain TCP: the family of the first address must match localAddress, not race both families.
      autoSelectFamily: false,
      // SNI must be a host name, never an IP literal.
      servername: net.isIP(server.host) === 0 ? server.host : undefined,
      rejectUnauthorized: server.rejectUnauthorized ?? true,
      ca: server.ca,
    };
    const socket: net.Socket = useTls
      ? tls.connect(tlsOptions)
      : net.connect({ host: server.host, port: server.port, localAddress, autoSelectFamily: false });
    const readyEvent = useTls ? 'secureConnect' : 'connect';
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        socket.setNoDelay(true);
        resolve(socket);
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      log('connect to %s:%d failed: %s', server.host, server.port, err.message);
      finish(
        new SocketError(`TURN server ${server.host}:${server.port}: ${err.message}`, err.code, {
          cause: err,
        }),
      );
    };
    const onReady = () => finish();
    const onAbort = () => finish(abortReason(signal));
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
