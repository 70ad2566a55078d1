import { isIP, type Server } from 'node:net';
import { InvalidArgumentError, SocketError, syscallCodeOf, wrapError } from '../errors.js';

/** Where a listener may bind: a fixed port, any port in a range, or (neither) a kernel-chosen one. */
export interface PortChoice {
  address: string;
  port?: number;
  portRange?: { min: number; max: number };
  /** Accept queue length asked of the kernel (capped by net.core.somaxconn); Node's default 511 when unset. */
  backlog?: number;
}

/** Listens `server` on the first free port of the choice and returns it; SocketError('EADDRINUSE') when none is. */
export async function listenOnChoice(server: Server, choice: PortChoice): Promise<number> {
  assertIpAddress(choice.address, 'address');
  if (choice.port !== undefined || choice.portRange === undefined) {
    const port = choice.port ?? 0;
    assertPort(port, 'port', true);
    return listenOnce(server, choice.address, port, choice.backlog);
  }
  const { min, max } = choice.portRange;
  assertPort(min, 'portRange.min', false);
  assertPort(max, 'portRange.max', false);
  if (min > max) throw new InvalidArgumentError(`portRange.min ${min} > portRange.max ${max}`);
  const size = max - min + 1;
  // A random starting point keeps agents on one host from all fighting over the bottom of the range.
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = min + ((start + i) % size);
    try {
      return await listenOnce(server, choice.address, port, choice.backlog);
    } catch (error) {
      if (!(error instanceof SocketError) || error.syscallCode !== 'EADDRINUSE') throw error;
    }
  }
  throw new SocketError(`no free port in ${min}-${max} on ${choice.address}`, 'EADDRINUSE');
}

/** Throws InvalidArgumentError unless `value` is a numeric IPv4 or IPv6 address. */
export function assertIpAddress(value: string, name: string): void {
  if (isIP(value) === 0)
    throw new InvalidArgumentError(`${name} must be a numeric IP address, got ${JSON.stringify(value)}`);
}

/** Throws InvalidArgumentError unless `value` is a TCP port (0 allowed only where the kernel may choose). */
export function assertPort(value: number, name: string, allowZero: boolean): void {
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(value) || value < min || value > 0xffff) {
    throw new InvalidArgumentError(`${name} must be an integer in ${min}..65535, got ${value}`);
  }
}

function listenOnce(server: Server, address: string, port: number, backlog?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(
        syscallCodeOf(error) === 'EADDRINUSE'
          ? new SocketError(`${address}:${port} is in use`, 'EADDRINUSE', { cause: error })
          : wrapError(error, `listen on ${address}:${port}`),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: address, port, exclusive: true, ...(backlog ? { backlog } : {}) });
  });
}

/**
 * The local end every connection accepted on `address:port` has, or undefined when the listener is on a wildcard
 * address (then each connection's own local address depends on the interface it came in on).
 */
export function acceptedLocalEnd(
  address: string,
  port: number,
): { address: string; port: number } | undefined {
  return address === '0.0.0.0' || address === '::' || address === '::0' ? undefined : { address, port };
}
