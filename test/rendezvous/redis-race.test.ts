import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomEvent } from '../../src/rendezvous/bus.js';
import { RedisRoomBus } from '../../src/rendezvous/redis-bus.js';
import { RendezvousServer } from '../../src/rendezvous/server.js';
import { hasCommand, requireOrSkip } from '../support/require.js';
import { notice, type RawMember, rawMember } from './helpers.js';
import { startRedis } from './redis-support.js';

// Two rendezvous servers in this process, each with its own Redis connections, are two processes as far as
// Redis is concerned. The windows between a join in Redis and the member's accept, or between a leave and its
// notice, are held open by wrapping RedisRoomBus's methods, so the cross-process races are deterministic.

const ok = requireOrSkip(
  'rendezvous join race over Redis',
  hasCommand('redis-server') ? [] : ['redis-server'],
);

const holds: Hold[] = [];
let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  // a failed test may leave a call held: let it finish, or closing its server would wait for it
  for (const h of holds.splice(0)) h.release();
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

interface Hold {
  /** Resolves with the bus (so: the process) once the call reached the held point. */
  reached: Promise<RedisRoomBus>;
  release(): void;
}

function hold(): Hold & { arrive(bus: RedisRoomBus): void; released: Promise<void> } {
  let arrive: (bus: RedisRoomBus) => void = () => {};
  let release: () => void = () => {};
  const reached = new Promise<RedisRoomBus>((resolve) => {
    arrive = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const h = { reached, arrive, released, release };
  holds.push(h);
  return h;
}

/** Holds for the next bus call: before it reaches Redis, and/or after Redis answered (before the caller sees it). */
interface CallHolds {
  before?: ReturnType<typeof hold>;
  after?: ReturnType<typeof hold>;
}

const joinHolds: CallHolds[] = [];
const leaveHolds: CallHolds[] = [];
const busEvents = new Map<RedisRoomBus, RoomEvent[]>();
let busWaiters: Array<() => void> = [];

async function around<T>(
  bus: RedisRoomBus,
  holds: CallHolds | undefined,
  call: () => Promise<T>,
): Promise<T> {
  if (holds?.before) {
    holds.before.arrive(bus);
    await holds.before.released;
  }
  const result = await call();
  if (holds?.after) {
    holds.after.arrive(bus);
    await holds.after.released;
  }
  return result;
}

beforeEach(() => {
  joinHolds.length = 0;
  leaveHolds.length = 0;
  busEvents.clear();
  busWaiters = [];
  const { join, leave, subscribe } = RedisRoomBus.prototype;
  vi.spyOn(RedisRoomBus.prototype, 'join').mockImplementation(function (this: RedisRoomBus, ...args) {
    return around(this, joinHolds.shift(), () => join.apply(this, args));
  });
  vi.spyOn(RedisRoomBus.prototype, 'leave').mockImplementation(function (this: RedisRoomBus, ...args) {
    return around(this, leaveHolds.shift(), () => leave.apply(this, args));
  });
  // records what each process's bus delivered, right after the server's listener handled it
  vi.spyOn(RedisRoomBus.prototype, 'subscribe').mockImplementation(function (
    this: RedisRoomBus,
    room,
    listener,
  ) {
    return subscribe.call(this, room, (event) => {
      listener(event);
      busEvents.set(this, [...(busEvents.get(this) ?? []), event]);
      for (const w of busWaiters.splice(0)) w();
    });
  });
});

/** Resolves once `bus` delivered a message event with this text to its server. */
function delivered(bus: RedisRoomBus, data: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (busEvents.get(bus)?.some((e) => e.kind === 'message' && e.data === data)) resolve();
      else busWaiters.push(check);
    };
    check();
  });
}

async function twoProcesses(): Promise<[RendezvousServer, RendezvousServer]> {
  const redis = await startRedis(cleanups);
  const servers = await Promise.all([
    RendezvousServer.start({ redisUrl: redis.url }),
    RendezvousServer.start({ redisUrl: redis.url }),
  ]);
  for (const s of servers) cleanups.push(() => s.close());
  return servers;
}

const member = (url: string): RawMember => rawMember(url, cleanups);
const is = (text: string) => (t: string) => t === text;

describe.skipIf(!ok)('rendezvous processes sharing Redis: joins and leaves racing across processes', () => {
  it("a member whose accept lags its join gets the peer that joined meanwhile, and that peer's messages", async () => {
    const [one, two] = await twoProcesses();
    const after = hold();
    joinHolds.push({ after });
    const a = member(one.url('race'));
    const busOne = await after.reached; // a is in the room in Redis, not yet accepted by process one
    const b = member(two.url('race'));
    expect(await b.until(() => true)).toEqual([notice.welcome(1)]);
    await b.send('b1');
    await delivered(busOne, 'b1');
    after.release();
    await b.send('b2');
    // everything after a's join, in order, once: b's join notice and both of its messages
    expect(await a.until(is('b2'))).toEqual([notice.welcome(0), notice.joined, 'b1', 'b2']);
    await a.send('a1');
    // b counted a in its welcome: no second notice about it
    expect(await b.until(is('a1'))).toEqual([notice.welcome(1), 'a1']);
  });

  it('a member whose accept lags gets what was sent after its join, not before', async () => {
    const [one, two] = await twoProcesses();
    const a = member(one.url('race'));
    expect(await a.until(() => true)).toEqual([notice.welcome(0)]);
    const before = hold();
    const after = hold();
    joinHolds.push({ before, after });
    const b = member(two.url('race'));
    const busTwo = await before.reached; // process two listens to the room, b not joined yet
    await a.send('a0');
    await delivered(busTwo, 'a0');
    before.release();
    await after.reached;
    await a.until(is(notice.joined));
    await a.send('a1');
    await delivered(busTwo, 'a1');
    after.release();
    expect(await b.until(is('a1'))).toEqual([notice.welcome(1), 'a1']);
    await b.send('b1');
    expect(await a.until(is('b1'))).toEqual([notice.welcome(0), notice.joined, 'b1']);
  });

  it('a member that leaves and rejoins at once: the peer sees left then joined, the newcomer no stale left', async () => {
    const [one, two] = await twoProcesses();
    const a = member(one.url('rejoin'));
    await a.until(() => true);
    const b = member(two.url('rejoin'));
    await a.until(is(notice.joined));
    const after = hold();
    leaveHolds.push({ after });
    a.ws.close();
    await after.reached; // a is out of the room in Redis, its process not done leaving
    const again = member(one.url('rejoin'));
    expect(await again.until(() => true)).toEqual([notice.welcome(1)]);
    after.release();
    await again.send('again1');
    expect(await b.until(is('again1'))).toEqual([notice.welcome(1), notice.left, notice.joined, 'again1']);
    await b.send('b1');
    expect(await again.until(is('b1'))).toEqual([notice.welcome(1), 'b1']);
  });

  it('a member gone before its accept leaves the room in Redis: its peer hears joined then left, no ghost', async () => {
    const [one, two] = await twoProcesses();
    const after = hold();
    joinHolds.push({ after });
    const a = member(one.url('ghost'));
    await after.reached;
    const b = member(two.url('ghost'));
    expect(await b.until(() => true)).toEqual([notice.welcome(1)]);
    a.ws.terminate();
    after.release();
    await b.until(is(notice.left));
    // the room has one member, b: a newcomer is admitted and counts only b
    const c = member(one.url('ghost'));
    expect(await c.until(() => true)).toEqual([notice.welcome(1)]);
    await c.send('c1');
    expect(await b.until(is('c1'))).toEqual([notice.welcome(1), notice.left, notice.joined, 'c1']);
  });

  it('a room released and reopened at once in one process keeps receiving (unsubscribe then subscribe)', async () => {
    const redis = await startRedis(cleanups);
    const [bus, other] = await Promise.all([
      RedisRoomBus.connect(redis.url),
      RedisRoomBus.connect(redis.url),
    ]);
    cleanups.push(
      () => bus.close(),
      () => other.close(),
    );
    await bus.subscribe('reopened', () => {});
    // what the server does when a room's last member leaves and a newcomer arrives before Redis answered
    void bus.unsubscribe('reopened');
    let received: (event: RoomEvent) => void = () => {};
    const got = new Promise<RoomEvent>((resolve) => {
      received = resolve;
    });
    await bus.subscribe('reopened', (event) => received(event));
    await other.publish('reopened', { kind: 'message', from: 'x', data: 'after reopening' });
    expect(await got).toEqual({ kind: 'message', from: 'x', data: 'after reopening' });
  });
});
