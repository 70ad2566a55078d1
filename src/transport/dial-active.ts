import net from 'node:net';
import createDebug from 'debug';
import { AbortedError, InvalidArgumentError, SocketError } from '../errors.js';
import { assertMaxFrameSize, FramedConnection } from './framed-connection.js';
import { assertIpAddress, assertPort } from './listen-port.js';
import { discardSocket, toSocketError } from './socket-errors.js';

const log = createDebug('ice-tcp:transport');

/** Options of {@link dialActive}. */
export interface DialActiveOptions {
  localAddress: string;
  remoteAddress: string;
  remotePort: number;
  /** Give up (SocketError 'ETIMEDOUT') after this long; the kernel's own SYN retries would take minutes. */
  timeoutMs: number;
  signal?: AbortSignal;
  maxFrameSize?: number;
}

/** Active candidate: dial a remote passive candidate from an ephemeral port. */
export async function dialActive(options: DialActiveOptions): Promise<FramedConnection> {
  const { localAddress, remoteAddress, remotePort, timeoutMs, signal } = options;
  assertIpAddress(localAddress, 'localAddress');
  assertIpAddress(remoteAddress, 'remoteAddress');
  assertPort(remotePort, 'remotePort', false);
  if (!(timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs must be > 0');
  if (options.maxFrameSize !== undefined) assertMaxFrameSize(options.maxFrameSize);
  const target = `${remoteAddress}:${remotePort}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(`dial ${target} aborted`, { cause: signal.reason }));
      return;
    }
    const socket = net.connect({
      host: remoteAddress,
      port: remotePort,
      localAddress,
      autoSelectFamily: false,
      noDelay: true,
    });
    const settle = (error: Error | undefined) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (error === undefined) {
        resolve(new FramedConnection(socket, { maxFrameSize: options.maxFrameSize }));
        return;
      }
      log('dial %s from %s failed: %s', target, localAddress, error.message);
      discardSocket(socket);
      reject(error);
    };
    const onConnect = () => settle(undefined);
    const onError = (error: Error) => settle(toSocketError(error, `dial ${target}`));
    const onAbort = () => settle(new AbortedError(`dial ${target} aborted`, { cause: signal?.reason }));
    const timer = setTimeout(
      () => settle(new SocketError(`dial ${target} timed out after ${timeoutMs} ms`, 'ETIMEDOUT')),
      timeoutMs,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
