import type net from 'node:net';

/** Limits and deadlines of a {@link ConnectionTable}. */
export interface ConnectionPolicy {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** From accept to the first complete request. */
  requestTimeoutMs: number;
  /** From the last complete request to the next one. */
  idleTimeoutMs: number;
}

/** Why a connection was reset by the table. */
export type EvictionReason = 'cap' | 'ip-cap' | 'request-deadline' | 'idle';

interface Entry {
  readonly socket: net.Socket;
  readonly group: Group;
  /** Accept time until the first complete request, then the time of the last one. */
  since: number;
  served: boolean;
}

/**
 * Connections in the order they last made progress. Maps and sets iterate in insertion order, so moving an
 * entry to the end on progress keeps the head the one idle the longest: eviction and expiry are O(1) each.
 */
class Group {
  /** Never completed a request; the head is the oldest accept. */
  readonly fresh = new Set<Entry>();
  /** Completed at least one; the head completed its last request longest ago. */
  readonly served = new Set<Entry>();

  get size(): number {
    return this.fresh.size + this.served.size;
  }

  /** The entry that made progress longest ago, fresh or served. */
  stalest(): Entry | undefined {
    const fresh = first(this.fresh);
    const served = first(this.served);
    if (!fresh) return served;
    if (!served) return fresh;
    return served.since < fresh.since ? served : fresh;
  }

  delete(entry: Entry): void {
    (entry.served ? this.served : this.fresh).delete(entry);
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}

/** More connections than a client of a STUN server has open at once: such a source pays first at the cap. */
const CROWDED = 8;

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The per-source key: an IPv6 host usually owns a whole /64, so its addresses count as one source. */
export function sourceKey(address: string): string {
  const v4 = V4_MAPPED.exec(address)?.[1];
  if (v4 !== undefined) return v4; // a dual-stack listener's view of an IPv4 client
  if (!address.includes(':')) return address;
  address = address.replace(/%.*$/, ''); // zone id
  const groups = address.split('::');
  const head = (groups[0] ?? '').split(':').filter((g) => g !== '');
  const tail = groups.length > 1 ? (groups[1] ?? '').split(':').filter((g) => g !== '') : [];
  const full = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Which TCP connections a STUN server keeps. A newcomer is always admitted: at the per-source cap that
 * source's connection that made progress longest ago is reset; at the global cap the stalest one of the
 * source holding the most connections if it holds more than a client would (else the globally stalest), so a
 * flood of idle or dripping connections only ever pushes out its own kind, and a client is not pushed out by
 * the churn of a flood from a few addresses. Only a complete request counts as progress, so a byte at
 * a time does not keep a connection: one that completes no request within `requestTimeoutMs` of its
 * accept, or none within `idleTimeoutMs` of its last, is reset by {@link sweep}. No per-connection timer.
 */
export class ConnectionTable {
  private readonly policy: ConnectionPolicy;
  private readonly all = new Group();
  private readonly byIp = new Map<string, Group>();
  /** Sources by how many connections they hold, to find a largest one in O(1). */
  private readonly bySize = new Map<number, Set<Group>>();
  private largest = 0;
  private readonly entries = new Map<net.Socket, { entry: Entry; ipEntry: Entry; key: string }>();
  private readonly evict: (socket: net.Socket, reason: EvictionReason) => void;

  /** `evict` resets the socket; the table has already forgotten it when called. */
  constructor(policy: ConnectionPolicy, evict: (socket: net.Socket, reason: EvictionReason) => void) {
    this.policy = policy;
    this.evict = evict;
  }

  /** Connections held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The sockets held now. */
  sockets(): IterableIterator<net.Socket> {
    return this.entries.keys();
  }

  /** Admits a new connection from `address`, resetting others first if a cap is reached. */
  admit(socket: net.Socket, address: string, now: number): void {
    const key = sourceKey(address);
    let group = this.byIp.get(key);
    if (!group) {
      group = new Group();
      this.byIp.set(key, group);
    }
    if (group.size >= this.policy.maxConnectionsPerIp) this.evictStalest(group, 'ip-cap');
    if (this.all.size >= this.policy.maxConnections) this.evictStalest(this.crowdedGroup(), 'cap');
    const entry: Entry = { socket, group: this.all, since: now, served: false };
    const ipEntry: Entry = { socket, group, since: now, served: false };
    this.all.fresh.add(entry);
    this.resized(group, () => group.fresh.add(ipEntry));
    this.byIp.set(key, group); // an eviction above may have emptied and dropped it
    this.entries.set(socket, { entry, ipEntry, key });
  }

  /** A complete request arrived on `socket`: it becomes the most recently active connection. */
  progressed(socket: net.Socket, now: number): void {
    const found = this.entries.get(socket);
    if (!found) return;
    for (const e of [found.entry, found.ipEntry]) {
      e.group.delete(e);
      e.since = now;
      e.served = true;
      e.group.served.add(e);
    }
  }

  /** Forgets `socket` (it closed); harmless if it is not held. */
  remove(socket: net.Socket): void {
    const found = this.entries.get(socket);
    if (!found) return;
    this.entries.delete(socket);
    found.entry.group.delete(found.entry);
    const group = found.ipEntry.group;
    this.resized(group, () => group.delete(found.ipEntry));
    if (group.size === 0) this.byIp.delete(found.key);
  }

  /** Resets every connection past its deadline. */
  sweep(now: number): void {
    this.expire(this.all.fresh, now - this.policy.requestTimeoutMs, 'request-deadline');
    this.expire(this.all.served, now - this.policy.idleTimeoutMs, 'idle');
  }

  /** Forgets and returns every socket (the caller resets them). */
  clear(): net.Socket[] {
    const sockets = [...this.entries.keys()];
    for (const socket of sockets) this.remove(socket);
    return sockets;
  }

  private expire(set: Set<Entry>, before: number, reason: EvictionReason): void {
    for (let head = first(set); head && head.since <= before; head = first(set))
      this.drop(head.socket, reason);
  }

  /**
   * A source holding the most connections when it holds more than {@link CROWDED} (a flood from a few
   * addresses), else every connection: a botnet of single-connection addresses must not make a client with
   * a few connections of its own the largest source, and so the one that loses.
   */
  private crowdedGroup(): Group {
    if (this.largest <= CROWDED) return this.all;
    return first(this.bySize.get(this.largest) ?? new Set<Group>()) ?? this.all;
  }

  /** Runs `change` on `group`'s membership and keeps {@link bySize} and {@link largest} in step. */
  private resized(group: Group, change: () => void): void {
    const before = group.size;
    change();
    const after = group.size;
    if (after === before) return;
    const old = this.bySize.get(before);
    old?.delete(group);
    if (old?.size === 0) this.bySize.delete(before);
    if (after > 0) {
      let bucket = this.bySize.get(after);
      if (!bucket) {
        bucket = new Set();
        this.bySize.set(after, bucket);
      }
      bucket.add(group);
    }
    if (after > this.largest) this.largest = after;
    while (this.largest > 0 && !this.bySize.has(this.largest)) this.largest--;
  }

  private evictStalest(group: Group, reason: EvictionReason): void {
    const victim = group.stalest();
    if (victim) this.drop(victim.socket, reason);
  }

  private drop(socket: net.Socket, reason: EvictionReason): void {
    this.remove(socket);
    this.evict(socket, reason);
  }
}
