import { randomUUID } from 'node:crypto';
import { SignallingError } from '../errors.js';
import { parseRoomEvent, type RoomBus, type RoomEvent } from './bus.js';

// Membership is a sorted set per room, scored by each member's last heartbeat: a rendezvous process that dies
// without leaving stops refreshing its members, and they stop counting once HEARTBEAT_MS * 3 has passed.
const HEARTBEAT_MS = 10_000;
const STALE_MS = HEARTBEAT_MS * 3;

// Check-and-add in one script, so two processes admitting a peer at once cannot overfill a room.
const JOIN_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local others = redis.call('ZCARD', KEYS[1])
if others >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return others`;

/** The subset of the `redis` client this bus uses (typed here: the package's own types are very generic). */
interface RedisLike {
  connect(): Promise<unknown>;
  duplicate(): RedisLike;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  zRem(key: string, member: string): Promise<unknown>;
  zAdd(key: string, members: Array<{ score: number; value: string }>): Promise<unknown>;
  pExpire(key: string, ms: number): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * Rooms shared through Redis: membership in a sorted set per room (`<prefix>room:<name>`), events over pub/sub
 * (`<prefix>events:<name>`). The `redis` package is imported here only, so a rendezvous without `--redis`
 * never loads it.
 */
export class RedisRoomBus implements RoomBus {
  private readonly local = new Map<string, Set<string>>();
  private readonly timer: NodeJS.Timeout;
  private readonly instance = randomUUID();

  private constructor(
    private readonly client: RedisLike,
    private readonly subscriber: RedisLike,
    private readonly prefix: string,
  ) {
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Connects to `url` (`redis://[user:pass@]host:port[/db]`); a connection failure is a SignallingError. */
  static async connect(url: string, prefix = 'ice-tcp:rendezvous:'): Promise<RedisRoomBus> {
    const { createClient } = await import('redis');
    // reconnect: false — a rendezvous that silently loses its bus would split rooms; fail loudly instead
    const client = createClient({ url, socket: { reconnectStrategy: false } }) as unknown as RedisLike;
    const subscriber = client.duplicate();
    try {
      client.on('error', () => {});
      subscriber.on('error', () => {});
      await client.connect();
      await subscriber.connect();
    } catch (err) {
      await Promise.allSettled([client.close(), subscriber.close()]);
      throw new SignallingError(`cannot connect to Redis at ${redactUrl(url)}`, { cause: err });
    }
    return new RedisRoomBus(client, subscriber, prefix);
  }

  async join(room: string, member: string, maxPeers: number): Promise<number | false> {
    const now = Date.now();
    const others = await this.client.eval(JOIN_SCRIPT, {
      keys: [this.key(room)],
      arguments: [String(now - STALE_MS), String(now), String(maxPeers), this.id(member), String(STALE_MS)],
    });
    if (typeof others !== 'number' || others < 0) return false;
    const set = this.local.get(room) ?? new Set<string>();
    set.add(member);
    this.local.set(room, set);
    return others;
  }

  async leave(room: string, member: string): Promise<void> {
    const set = this.local.get(room);
    set?.delete(member);
    if (set?.size === 0) this.local.delete(room);
    await this.client.zRem(this.key(room), this.id(member));
  }

  async publish(room: string, event: RoomEvent): Promise<void> {
    await this.client.publish(this.channel(room), JSON.stringify(event));
  }

  async subscribe(room: string, listener: (event: RoomEvent) => void): Promise<void> {
    await this.subscriber.subscribe(this.channel(room), (text) => {
      const event = parseRoomEvent(text);
      if (event) listener(event);
    });
  }

  async unsubscribe(room: string): Promise<void> {
    await this.subscriber.unsubscribe(this.channel(room));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const leaving = [...this.local].flatMap(([room, set]) => [...set].map((m) => this.leave(room, m)));
    await Promise.allSettled(leaving);
    await Promise.allSettled([this.client.close(), this.subscriber.close()]);
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    for (const [room, set] of this.local) {
      const members = [...set].map((m) => ({ score: now, value: this.id(m) }));
      await this.client.zAdd(this.key(room), members).catch(() => {});
      await this.client.pExpire(this.key(room), STALE_MS).catch(() => {});
    }
  }

  private key(room: string): string {
    return `${this.prefix}room:${room}`;
  }

  private channel(room: string): string {
    return `${this.prefix}events:${room}`;
  }

  private id(member: string): string {
    return `${this.instance}:${member}`;
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
