import { InvalidArgumentError } from '../errors.js';

/** Options of {@link RendezvousServer}; `ice-tcp rendezvous` takes the same ones as flags. */
export interface RendezvousOptions {
  /** Address to listen on. Default `127.0.0.1`; `0.0.0.0` or `::` to serve other hosts. */
  host?: string;
  /** TCP port. Default 0 (any free port). */
  port?: number;
  /** Shared secret a client must present (`?token=` or `Authorization: Bearer`); unset: anyone may join. */
  token?: string;
  /** Peers per room, counted over every process sharing a Redis. Default 2 (one offer, one answer). */
  maxPeersPerRoom?: number;
  /** Rooms with a member in this process. Default 1000. */
  maxRooms?: number;
  /** Largest WebSocket message accepted; a bigger one closes that connection. Default 16384. */
  maxMessageBytes?: number;
  /** Sustained messages per second per connection. Default 20. */
  messagesPerSecond?: number;
  /** Messages a connection may send at once before the rate applies (a trickle of candidates). Default 100. */
  messageBurst?: number;
  /** A room in which nobody joined or sent anything for this long is closed. Default 600000 (10 min). */
  idleRoomMs?: number;
  /** WebSocket ping interval; a connection that misses a pong is dropped. Default 30000. */
  pingIntervalMs?: number;
  /** `redis://...`: share rooms with every rendezvous process using the same Redis (pub/sub). */
  redisUrl?: string;
}

/** Options with every default applied. */
export type ResolvedRendezvousOptions = Required<Omit<RendezvousOptions, 'token' | 'redisUrl'>> &
  Pick<RendezvousOptions, 'token' | 'redisUrl'>;

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxPeersPerRoom: 2,
  maxRooms: 1000,
  maxMessageBytes: 16_384,
  messagesPerSecond: 20,
  messageBurst: 100,
  idleRoomMs: 600_000,
  pingIntervalMs: 30_000,
} as const;

/** Applies defaults and rejects unusable values with {@link InvalidArgumentError} naming the option. */
export function resolveRendezvousOptions(options: RendezvousOptions = {}): ResolvedRendezvousOptions {
  const r: ResolvedRendezvousOptions = { ...DEFAULTS, ...withoutUndefined(options) };
  integer('port', r.port, 0, 65535);
  integer('maxPeersPerRoom', r.maxPeersPerRoom, 2, 1000);
  integer('maxRooms', r.maxRooms, 1, 1_000_000);
  integer('maxMessageBytes', r.maxMessageBytes, 256, 16 * 1024 * 1024);
  integer('messageBurst', r.messageBurst, 1, 1_000_000);
  integer('idleRoomMs', r.idleRoomMs, 1, 2 ** 31 - 1);
  integer('pingIntervalMs', r.pingIntervalMs, 1, 2 ** 31 - 1);
  if (!(r.messagesPerSecond > 0) || !Number.isFinite(r.messagesPerSecond)) {
    throw new InvalidArgumentError(`messagesPerSecond must be a positive number, got ${r.messagesPerSecond}`);
  }
  if (r.token !== undefined && r.token.length === 0)
    throw new InvalidArgumentError('token must not be empty');
  if (r.redisUrl !== undefined && !/^rediss?:\/\//.test(r.redisUrl)) {
    throw new InvalidArgumentError('redisUrl must start with redis:// or rediss://');
  }
  return r;
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function withoutUndefined(options: RendezvousOptions): RendezvousOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
