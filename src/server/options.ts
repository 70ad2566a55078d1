import { InvalidArgumentError } from '../errors.js';

/** Options of {@link StunServer.start}. */
export interface StunServerOptions {
  /** Address to listen on (default '127.0.0.1'). */
  host?: string;
  /** Port for both TCP and UDP (default 0: any free port, the same number for both). */
  port?: number;
  /** RFC 5780: a second port to listen on (0 = any); responses then carry OTHER-ADDRESS and RESPONSE-ORIGIN. */
  alternatePort?: number;
  /** RFC 5780: a second address to listen on (with the primary port unless `alternatePort` is set). */
  alternateHost?: string;
  /** Also answer Binding over UDP on the same ports (default true). */
  udp?: boolean;
  /**
   * Open TCP connections at most (default 1024). A newcomer is always served: at the cap the connection
   * whose last complete request (or accept, if it has none) is oldest is reset instead.
   */
  maxConnections?: number;
  /**
   * Open TCP connections from one source address (one /64 for IPv6) at most (default 64); at the cap that
   * source's own stalest connection is reset, so one host cannot push everyone else out.
   */
  maxConnectionsPerIp?: number;
  /** A TCP connection that completes no request this long after its accept is reset (default 3000). */
  requestTimeoutMs?: number;
  /**
   * A TCP connection that completes no request this long after its last one is reset (default 30000).
   * Bytes that do not complete a request do not count.
   */
  idleTimeoutMs?: number;
  /**
   * UDP: a response is at most this many times the size of its request (default 3, RFC 9000 §8's bound):
   * SOFTWARE, then RESPONSE-ORIGIN/OTHER-ADDRESS, then a FINGERPRINT the request did not carry are left out
   * until it fits. XOR-MAPPED-ADDRESS always stays, so a bare 20-byte request still gets 32 bytes.
   */
  udpAmplificationLimit?: number;
  /** SOFTWARE attribute of every response (default none). */
  software?: string;
}

/** One place to listen: an address and a port (0 until bound, when it was asked for as "any"). */
export interface EndpointSpec {
  host: string;
  port: number;
}

/** Options with defaults applied and checked. */
export interface ResolvedStunServerOptions {
  primary: EndpointSpec;
  alternate: EndpointSpec | undefined;
  udp: boolean;
  maxConnections: number;
  maxConnectionsPerIp: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  udpAmplificationLimit: number;
  software: string | undefined;
}

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${name} must be an integer 0..65535, got ${port}`);
  }
  return port;
}

function checkPositive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function checkRatio(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 1)
    throw new InvalidArgumentError(`${name} must be a number >= 1, got ${value}`);
  return value;
}

/** Applies defaults and rejects options that cannot work, before anything binds. */
export function resolveStunServerOptions(options: StunServerOptions): ResolvedStunServerOptions {
  const host = options.host ?? '127.0.0.1';
  const primary = { host, port: checkPort('port', options.port ?? 0) };
  let alternate: EndpointSpec | undefined;
  if (options.alternatePort !== undefined || options.alternateHost !== undefined) {
    const altHost = options.alternateHost ?? host;
    // Same host: the alternate needs its own port; a different host may reuse the primary's number.
    const altPort = checkPort(
      'alternatePort',
      options.alternatePort ?? (altHost === host ? 0 : primary.port),
    );
    if (altHost === host && altPort !== 0 && altPort === primary.port) {
      throw new InvalidArgumentError('the alternate endpoint must differ from the primary one');
    }
    alternate = { host: altHost, port: altPort };
  }
  if (options.software !== undefined && Buffer.byteLength(options.software, 'utf8') > 763) {
    throw new InvalidArgumentError('software must be at most 763 bytes of UTF-8 (RFC 8489 §14.14)');
  }
  return {
    primary,
    alternate,
    udp: options.udp ?? true,
    maxConnections: checkPositive('maxConnections', options.maxConnections ?? 1024),
    maxConnectionsPerIp: checkPositive('maxConnectionsPerIp', options.maxConnectionsPerIp ?? 64),
    requestTimeoutMs: checkPositive('requestTimeoutMs', options.requestTimeoutMs ?? 3000),
    idleTimeoutMs: checkPositive('idleTimeoutMs', options.idleTimeoutMs ?? 30_000),
    udpAmplificationLimit: checkRatio('udpAmplificationLimit', options.udpAmplificationLimit ?? 3),
    software: options.software,
  };
}
