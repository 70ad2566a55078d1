/** What one rendezvous process tells the others about a room: a member joined or left, or sent a message. */
export type RoomEvent =
  | { kind: 'joined'; from: string }
  | { kind: 'left'; from: string }
  | { kind: 'message'; from: string; data: string };

/**
 * Room membership and fan-out shared by every rendezvous process that uses the same bus. In one process it is
 * {@link LocalRoomBus}; across processes the Redis bus, so that two peers attached to different processes meet.
 *
 * A room's events form one order, the same for every subscriber. A member's own `joined` event marks where it
 * entered that order and its `left` event where it went out: `join` and `leave` change the membership and
 * publish the event in one step, so the `others` count a joiner gets is exactly the members whose `joined`
 * came before its own and whose `left` did not.
 */
export interface RoomBus {
  /**
   * Adds the member and publishes its `joined` event, unless the room already holds `maxPeers` (counted over
   * every process). Returns how many other members it has, or false when it is full (nothing published).
   */
  join(room: string, member: string, maxPeers: number): Promise<number | false>;
  /** Removes the member and publishes its `left` event; nothing when it is not a member (idempotent). */
  leave(room: string, member: string): Promise<void>;
  /** Delivers the event to every subscriber of the room, in every process, the sender's included. */
  publish(room: string, event: RoomEvent): Promise<void>;
  /** Starts delivering the room's events to `listener` (one listener per room and process), in the room's order. */
  subscribe(room: string, listener: (event: RoomEvent) => void): Promise<void>;
  /** Stops delivering the room's events. */
  unsubscribe(room: string): Promise<void>;
  /** Releases connections and timers; this process's members leave their rooms. */
  close(): Promise<void>;
}

/** The bus of a single rendezvous process: plain maps. */
export class LocalRoomBus implements RoomBus {
  private readonly members = new Map<string, Set<string>>();
  private readonly listeners = new Map<string, (event: RoomEvent) => void>();

  async join(room: string, member: string, maxPeers: number): Promise<number | false> {
    const set = this.members.get(room) ?? new Set<string>();
    if (set.size >= maxPeers) return false;
    const others = set.size;
    set.add(member);
    this.members.set(room, set);
    await this.publish(room, { kind: 'joined', from: member });
    return others;
  }

  async leave(room: string, member: string): Promise<void> {
    const set = this.members.get(room);
    if (!set?.delete(member)) return;
    if (set.size === 0) this.members.delete(room);
    await this.publish(room, { kind: 'left', from: member });
  }

  async publish(room: string, event: RoomEvent): Promise<void> {
    // asynchronous like a real bus, so that the sender's code never re-enters itself
    const listener = this.listeners.get(room);
    if (listener) queueMicrotask(() => listener(event));
  }

  async subscribe(room: string, listener: (event: RoomEvent) => void): Promise<void> {
    this.listeners.set(room, listener);
  }

  async unsubscribe(room: string): Promise<void> {
    this.listeners.delete(room);
  }

  async close(): Promise<void> {
    this.members.clear();
    this.listeners.clear();
  }
}

/** Parses a bus event read from another process; undefined for anything malformed. */
export function parseRoomEvent(text: string): RoomEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.from !== 'string') return undefined;
  if (e.kind === 'joined' || e.kind === 'left') return { kind: e.kind, from: e.from };
  if (e.kind === 'message' && typeof e.data === 'string')
    return { kind: 'message', from: e.from, data: e.data };
  return undefined;
}
