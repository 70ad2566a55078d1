import net from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import { AbortedError, type IceTcpError, SocketError, wrapError } from '../errors.js';
import { discardSocket } from './socket-errors.js';

const log = createDebug('ice-tcp:transport:dial');

/** Options of {@link openSocket}. */
export interface OpenSocketOptions {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
  /** Give up (SocketError 'ETIMEDOUT') after this long; the kernel's own SYN retries take minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Run TLS over the connection (resolves after the handshake); SNI and verification are the caller's. */
  tls?: tls.ConnectionOptions;
  /** Names the connection in error messages, e.g. `dial 192.0.2.1:80`. */
  label: string;
  /** The error an abort stands for; default an AbortedError carrying `signal.reason`. */
  abortError?: (signal: AbortSignal) => IceTcpError;
}

/**
 * Opens a TCP (or TLS) connection with an 'error' listener from creation until the socket is gone: a failed,
 * timed-out or aborted connect is destroyed at once (nothing is left in SYN_SENT to fail minutes later), and
 * an error the new owner does not handle is logged, never thrown. Every outgoing connection of the library
 * but the simultaneous-open dials (which manage their own re-SYNs) goes through here.
 */
export function openSocket(options: OpenSocketOptions): Promise<net.Socket> {
  const { signal, label } = options;
  const abortError = options.abortError ?? defaultAbortError;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const endpoint = {
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      localPort: options.localPort,
      // numeric addresses: the family must match localAddress, not race both families (Node 20 default)
      autoSelectFamily: false,
    };
    const socket: net.Socket = options.tls
      ? tls.connect({ ...options.tls, ...endpoint })
      : net.connect({ ...endpoint, noDelay: true });
    socket.on('error', (error) => log('%s: %s', label, error.message));
    const readyEvent = options.tls ? 'secureConnect' : 'connect';
    let settled = false;
    const settle = (error: IceTcpError | undefined) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
      if (error === undefined) {
        socket.setNoDelay(true);
        resolve(socket);
        return;
      }
      log('%s failed: %s', label, error.message);
      discardSocket(socket);
      reject(error);
    };
    const onReady = () => settle(undefined);
    const onError = (error: Error) => settle(wrapError(error, label));
    const onAbort = () => settle(abortError(signal as AbortSignal));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            // Timers run before the loop polls for I/O: after a stall (a loaded machine) the kernel may have
            // completed the connect already. Let one poll phase report it before calling it a timeout; a
            // connected socket destroyed here would hold its 4-tuple, and a redial from the port would fail.
            () =>
              setImmediate(() =>
                settle(new SocketError(`${label} timed out after ${options.timeoutMs} ms`, 'ETIMEDOUT')),
              ),
            options.timeoutMs,
          );
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function defaultAbortError(signal: AbortSignal): IceTcpError {
  return new AbortedError(undefined, { cause: signal.reason });
}
