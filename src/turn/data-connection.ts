import type net from 'node:net';
import createDebug from 'debug';
import { StunClass, StunMessageBuilder, StunMethod } from '../stun/index.js';
import { authenticatedRequest, type LongTermCredentials } from './auth.js';
import { StunPrefixReader } from './stun-prefix-reader.js';
import { openServerSocket } from './transport.js';
import type { TurnServerOptions } from './types.js';

const log = createDebug('ice-tcp:turn:data');

/** What a data connection needs: the allocation's server, credentials and the CONNECTION-ID to bind. */
export interface DataConnectionOptions {
  server: TurnServerOptions;
  localAddress?: string;
  credentials: LongTermCredentials;
  connectionId: number;
  signal: AbortSignal;
}

/**
 * Opens a new TCP connection to the TURN server and sends ConnectionBind with `connectionId` (RFC 6062 §4.3,
 * authenticated like every other request). Resolves with the socket once the server answered with success:
 * from then on it carries the peer's raw bytes. Note: coturn has been reported (coturn issues 408, 495) to
 * drop peer bytes that arrived at the relay before the ConnectionBind; the ICE layer copes by resending checks.
 */
export async function bindDataConnection(options: DataConnectionOptions): Promise<net.Socket> {
  const socket = await openServerSocket(options.server, options.localAddress, options.signal);
  const reader = new StunPrefixReader(socket);
  try {
    await authenticatedRequest(
      async (bytes, transactionId, signal) => {
        socket.write(bytes);
        for (;;) {
          const message = await reader.next(signal);
          if (message.transactionId.equals(transactionId) && (message.isSuccess() || message.isError())) {
            return message;
          }
          log('data connection: dropping unrelated STUN message');
        }
      },
      options.credentials,
      () =>
        new StunMessageBuilder(StunMethod.ConnectionBind, StunClass.Request).connectionId(
          options.connectionId,
        ),
      `ConnectionBind ${options.connectionId}`,
      options.signal,
    );
  } catch (err) {
    reader.release();
    socket.destroy();
    throw err;
  }
  reader.release();
  // A reset peer must never crash the process with an unhandled 'error'; 'close' still reports it.
  socket.on('error', (err) => log('data connection %d: %s', options.connectionId, err.message));
  return socket;
}
