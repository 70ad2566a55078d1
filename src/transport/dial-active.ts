import { AbortedError, InvalidArgumentError } from '../errors.js';
import { assertMaxFrameSize, FramedConnection } from './framed-connection.js';
import { assertIpAddress, assertPort } from './listen-port.js';
import { openSocket } from './open-socket.js';

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
  const socket = await openSocket({
    host: remoteAddress,
    port: remotePort,
    localAddress,
    timeoutMs,
    signal,
    label: `dial ${target} from ${localAddress}`,
    abortError: (s) => new AbortedError(`dial ${target} aborted`, { cause: s.reason }),
  });
  return new FramedConnection(socket, { maxFrameSize: options.maxFrameSize });
}
