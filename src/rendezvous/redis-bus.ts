import { randomUUID } from 'node:crypto';
import { SignallingError } from '../errors.js';
import { parseRoomEvent, type RoomBus, type RoomEvent } from './bus.js';

// Membership is a sorted set per room, scored by each member's last heartbeat: a rendezvous process that dies
// without leaving stops refreshing its members, and they stop counting once HEARTBEAT_MS * 3 has passed.
const HEARTBEAT_MS = 10_000;
const STALE_MS = HEARTBEAT_MS * 3;

// Check, add and announce in one script: two processes admitting a peer at once cannot overfill a room, and
// the member's `joined` event takes its place in the room's pub/sub order at the very moment it is counted
// (the RoomBus contract: docs in bus.ts).
const JOIN_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local others = redis.call('ZCARD', KEYS[1])
if others >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return others`;

// Remove and announce in one script, and announce only a member that was there: a `left` published after a
// newcomer's join would reach a newcomer that never counted the leaver.
const LEAVE_SCRIPT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 0`;

/** The subset of the `redis` client this bus uses (typed here: the package's own types are very generic). */
interface RedisLike {
  connect(): Promise<unknown>;
  duplicate(): RedisLike;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  zAdd(
    key: string,
    members: Array<{ score: number; value: string }>,
    options: { condition: 'XX' },
  ): Promise<unknown>;
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
  /** The last (un)subscription of each room's channel, so that the next one starts after it. */
  private readonly channelOps = new Map<string, Promise<void>>();

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
      arguments: [
        String(now - STALE_MS),
        String(now),
        String(maxPeers),
        this.id(member),
        String(STALE_MS),
        this.channel(room),
        JSON.stringify({ kind: 'joined', from: member } satisfies RoomEvent),
      ],
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
    await this.client.eval(LEAVE_SCRIPT, {
      keys: [this.key(room)],
      arguments: [
        this.id(member),
        this.channel(room),
        JSON.stringify({ kind: 'left', from: member } satisfies RoomEvent),
      ],
    });
  }

  async publish(room: string, event: RoomEvent): Promise<void> {
    await this.client.publish(this.channel(room), JSON.stringify(event));
  }

  subscribe(room: string, listener: (event: RoomEvent) => void): Promise<void> {
    return this.inOrder(room, () =>
      this.subscriber.subscribe(this.channel(room), (text) => {
        const event = parseRoomEvent(text);
        if (event) listener(event);
      }),
    );
  }

  unsubscribe(room: string): Promise<void> {
    return this.inOrder(room, () => this.subscriber.unsubscribe(this.channel(room)));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const leaving = [...this.local].flatMap(([room, set]) => [...set].map((m) => this.leave(room, m)));
    await Promise.allSettled(leaving);
    await Promise.allSettled([this.client.close(), this.subscriber.close()]);
  }

  /**
   * Runs a room's (un)subscriptions one after the other. The client drops a channel's listeners when Redis
   * confirms an UNSUBSCRIBE, and a SUBSCRIBE issued before that confirmation is taken as already done: a room
   * reopened right after it was released would never hear from Redis again.
   */
  private inOrder(room: string, op: () => Promise<unknown>): Promise<void> {
    const previous = this.channelOps.get(room) ?? Promise.resolve();
    const next = previous.then(op, op).then(() => {});
    this.channelOps.set(room, next);
    const forget = () => {
      if (this.channelOps.get(room) === next) this.channelOps.delete(room);
    };
    next.then(forget, forget);
    return next;
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    for (const [room, set] of this.local) {
      const members = [...set].map((m) => ({ score: now, value: this.id(m) }));
      // XX: refresh only; a member that left meanwhile must not be put back
      await this.client.zAdd(this.key(room), members, { condition: 'XX' }).catch(() => {});
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
