import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import {
  CLOSE_CODE,
  REFUSAL_STATUS,
  type RendezvousNotice,
  ROOM_NAME,
} from '../signalling/rendezvous-protocol.js';
import { presentedToken, tokenMatches } from './auth.js';
import { LocalRoomBus, type RoomBus, type RoomEvent } from './bus.js';
import {
  type RendezvousOptions,
  type ResolvedRendezvousOptions,
  resolveRendezvousOptions,
} from './options.js';
import { TokenBucket } from './rate.js';
import { RedisRoomBus } from './redis-bus.js';

interface Member {
  id: string;
  /** Set at accept, once the WebSocket handshake is done; until then events for the member wait in `backlog`. */
  ws: WebSocket | undefined;
  /** Its join reached the bus: leaving must take it out there too. */
  joined: boolean;
  /**
   * Its own `joined` event came through the room's subscription. Events before it were published before the
   * member was counted (its welcome's `peers` covers those peers), events after it are all for it: so each
   * pair of members learns of each other once, by a welcome count or by a peer-joined notice, never both.
   */
  entered: boolean;
  /** Events for it that arrived before its accept (from another process, its join can land first). */
  backlog: string[];
  bucket: TokenBucket;
  alive: boolean;
}

interface Room {
  /** Members, from admission on: a member not yet accepted is here too, so that nothing for it is lost. */
  members: Map<string, Member>;
  lastActivity: number;
  subscribed: Promise<void>;
}

/**
 * A WebSocket signalling server: peers that open `ws://host:port/<room>` are in one room, and each text message
 * one of them sends reaches the others. It stores nothing: a member that joins late gets a `peer-joined` notice
 * sent to the others, and `WebSocketSignaller` answers it by sending the messages it queued meanwhile. With
 * `redisUrl`, several processes share rooms through Redis pub/sub; a member gets every event of its room from
 * its join on, in order and once, whichever process it is attached to.
 */
export class RendezvousServer {
  private readonly rooms = new Map<string, Room>();
  private readonly wss: WebSocketServer;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  // kept: http.address() is null once closed, and callers still want to name the server in messages
  private readonly listening: AddressInfo;

  private constructor(
    private readonly http: Server,
    private readonly bus: RoomBus,
    private readonly options: ResolvedRendezvousOptions,
  ) {
    this.listening = http.address() as AddressInfo;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
    http.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    http.on('request', (_req, res) =>
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n'),
    );
    const sweep = Math.max(10, Math.min(options.idleRoomMs / 4, 60_000));
    this.timers.push(setInterval(() => this.closeIdleRooms(), sweep));
    this.timers.push(setInterval(() => this.ping(), options.pingIntervalMs));
  }

  /** Starts listening; rejects with InvalidArgumentError, a listen error, or SignallingError (Redis). */
  static async start(options: RendezvousOptions = {}): Promise<RendezvousServer> {
    const resolved = resolveRendezvousOptions(options);
    const bus = resolved.redisUrl ? await RedisRoomBus.connect(resolved.redisUrl) : new LocalRoomBus();
    const http = createServer();
    // every admitted member plus a margin for handshakes: a flood of idle TCP connections stops here
    http.maxConnections = resolved.maxRooms * resolved.maxPeersPerRoom + 256;
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(resolved.port, resolved.host, () => resolve());
      });
    } catch (err) {
      await bus.close();
      throw err;
    }
    return new RendezvousServer(http, bus, resolved);
  }

  /** Where it listens. */
  get address(): { host: string; port: number } {
    return { host: this.listening.address, port: this.listening.port };
  }

  /** The `ws://` URL of a room on this server (the token is not included). */
  url(room: string): string {
    const { host, port } = this.address;
    return `ws://${host.includes(':') ? `[${host}]` : host}:${port}/${room}`;
  }

  /** Rooms with a member connected to this process. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Closes every connection (code 1001), leaves the bus and stops listening. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const room of this.rooms.values()) {
      for (const m of room.members.values()) m.ws?.close(CLOSE_CODE['server-closing'], 'server closing');
    }
    this.http.closeAllConnections();
    await this.bus.close();
    await closed;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'ws://rendezvous');
    const room = url.pathname.slice(1);
    const refusal = this.admissionRefusal(req, url, room);
    if (refusal) return refuse(socket, refusal);
    const entry = this.openRoom(room);
    const member: Member = {
      id: randomUUID(),
      ws: undefined,
      joined: false,
      entered: false,
      backlog: [],
      bucket: new TokenBucket(this.options.messagesPerSecond, this.options.messageBurst, Date.now()),
      alive: true,
    };
    entry.members.set(member.id, member);
    // once accepted, the WebSocket's 'close' takes over
    socket.once('close', () => member.ws === undefined && void this.leave(room, entry, member));
    let others: number | false | undefined;
    try {
      // subscribed before joining: our own `joined` event, and every event after it, reach this process
      await entry.subscribed;
      others = await this.bus.join(room, member.id, this.options.maxPeersPerRoom);
      member.joined = typeof others === 'number';
    } catch {
      others = undefined;
    }
    const gone = !entry.members.has(member.id) || socket.destroyed;
    if (others === false || others === undefined || gone || this.closing) {
      // others may see this member join and leave at once: each of them hears of both
      await this.leave(room, entry, member);
      return refuse(socket, others === false ? 'room-full' : 'server-unavailable');
    }
    const welcome = others;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(room, entry, member, ws, welcome));
  }

  private openRoom(name: string): Room {
    const existing = this.rooms.get(name);
    if (existing) return existing;
    const room: Room = {
      members: new Map(),
      lastActivity: Date.now(),
      subscribed: Promise.resolve(),
    };
    room.subscribed = this.bus.subscribe(name, (event) => this.deliver(name, event));
    room.subscribed.catch(() => {});
    this.rooms.set(name, room);
    return room;
  }

  private releaseRoom(name: string, room: Room): void {
    if (room.members.size > 0 || this.rooms.get(name) !== room) return;
    this.rooms.delete(name);
    void this.bus.unsubscribe(name).catch(() => {});
  }

  private admissionRefusal(req: IncomingMessage, url: URL, room: string): Refusal | undefined {
    if (this.closing) return 'server-unavailable';
    if (this.options.token !== undefined && !tokenMatches(this.options.token, presentedToken(req, url))) {
      return 'unauthorized';
    }
    if (!ROOM_NAME.test(room)) return 'bad-room';
    if (!this.rooms.has(room) && this.rooms.size >= this.options.maxRooms) return 'too-many-rooms';
    return undefined;
  }

  private accept(roomName: string, room: Room, member: Member, ws: WebSocket, others: number): void {
    member.ws = ws;
    ws.on('pong', () => {
      member.alive = true;
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => this.receive(roomName, room, member, ws, data, isBinary));
    ws.on('close', () => void this.leave(roomName, room, member));
    ws.send(JSON.stringify({ rendezvous: 'welcome', peers: others } satisfies RendezvousNotice));
    for (const text of member.backlog.splice(0)) ws.send(text);
  }

  private receive(
    roomName: string,
    room: Room,
    member: Member,
    ws: WebSocket,
    data: RawData,
    isBinary: boolean,
  ): void {
    if (!member.bucket.take(Date.now())) {
      ws.close(CLOSE_CODE['rate-limited'], 'rate limited');
      return;
    }
    if (isBinary) {
      ws.close(1003, 'text messages only');
      return;
    }
    room.lastActivity = Date.now();
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString()
      : Buffer.from(data as Buffer).toString();
    void this.bus.publish(roomName, { kind: 'message', from: member.id, data: text }).catch(() => {});
  }

  /**
   * Takes the member out of the room here and, once its join reached the bus, out of the bus (which announces
   * it). Idempotent: the bus announces a member's leaving once.
   */
  private async leave(roomName: string, room: Room, member: Member): Promise<void> {
    room.members.delete(member.id);
    this.releaseRoom(roomName, room);
    if (member.joined) await this.bus.leave(roomName, member.id).catch(() => {});
  }

  private deliver(roomName: string, event: RoomEvent): void {
    const room = this.rooms.get(roomName);
    if (!room) return;
    room.lastActivity = Date.now();
    const text =
      event.kind === 'message'
        ? event.data
        : JSON.stringify({
            rendezvous: event.kind === 'joined' ? 'peer-joined' : 'peer-left',
          } satisfies RendezvousNotice);
    for (const m of room.members.values()) {
      if (m.id === event.from) {
        m.entered ||= event.kind === 'joined';
      } else if (!m.entered) {
        // published before this member's join: its welcome count already covers the peers concerned
      } else if (m.ws === undefined) {
        // bounded: the window is one bus round trip, and every sender is rate-limited
        m.backlog.push(text);
      } else if (m.ws.readyState === m.ws.OPEN) {
        m.ws.send(text);
      }
    }
  }

  private closeIdleRooms(): void {
    const cutoff = Date.now() - this.options.idleRoomMs;
    for (const room of this.rooms.values()) {
      if (room.lastActivity > cutoff) continue;
      for (const m of room.members.values()) m.ws?.close(CLOSE_CODE['room-idle'], 'room idle');
    }
  }

  private ping(): void {
    for (const room of this.rooms.values()) {
      for (const m of room.members.values()) {
        if (m.ws === undefined) continue;
        if (!m.alive) {
          m.ws.terminate();
          continue;
        }
        m.alive = false;
        m.ws.ping();
      }
    }
  }
}

type Refusal = keyof typeof REFUSAL_STATUS | 'server-unavailable';

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
};

function refuse(socket: Duplex, refusal: Refusal): void {
  const status = refusal === 'server-unavailable' ? 503 : REFUSAL_STATUS[refusal];
  if (!socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}
