import { EventEmitter } from 'eventemitter3';
import WebSocket from 'ws';
import { InvalidArgumentError, RendezvousError, SignallingError } from '../errors.js';
import { type Signaller, type SignalMessage, validateSignalMessage } from './messages.js';
import { type RendezvousNotice, refusalFor } from './rendezvous-protocol.js';

/** Options of {@link WebSocketSignaller.connect}. */
export interface WebSocketSignallerOptions {
  /** The rendezvous server's shared secret, sent as `Authorization: Bearer` (never in the URL or logs). */
  token?: string;
  /** Longest wait for the WebSocket to open. Default 10000. */
  connectTimeoutMs?: number;
  /** Largest message accepted from the server; a bigger one ends the connection. Default 16384. */
  maxMessageBytes?: number;
  /** Messages kept while no peer is in the room (and before a handler is registered). Default 1000. */
  maxQueued?: number;
  /** Cancels the connection attempt. */
  signal?: AbortSignal;
}

/** Events of a {@link WebSocketSignaller}. */
export interface WebSocketSignallerEvents {
  /** A peer's message that is not a SignalMessage (skipped), or the connection failing. */
  error: [err: SignallingError];
  /** Another member joined the room (our queued messages are then sent). */
  'peer-joined': [];
  /** A member left the room. */
  'peer-left': [];
  /** The connection ended; `err` says why unless we closed it ourselves. It is never reopened. */
  close: [err?: RendezvousError];
}

/**
 * A {@link Signaller} over a rendezvous server's WebSocket room (`ice-tcp rendezvous`): both peers connect to
 * `ws://host:port/<room>` and each message one sends reaches the other. Messages sent while the other peer is
 * not in the room yet are queued and sent when it joins (the server keeps nothing).
 *
 * It does not reconnect: ICE needs signalling only until it connects, and a dropped rendezvous rarely comes back
 * in time. When the socket drops, `'close'` fires with a {@link RendezvousError} (`reason` says why: a close
 * code of the server such as `rate-limited`, or `connection-lost`), and every later `send()` rejects with it,
 * which `connectWithSignaller` reports as the agent's `'error'`. Start over with a new agent and signaller.
 */
export class WebSocketSignaller extends EventEmitter<WebSocketSignallerEvents> implements Signaller {
  private readonly handlers = new Set<(message: SignalMessage) => void>();
  private readonly inbox: SignalMessage[] = [];
  private readonly outbox: string[] = [];
  // the server announces each other member once (welcome count or peer-joined) and each leaving once
  private peers = 0;
  private failure: RendezvousError | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly maxQueued: number,
  ) {
    super();
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('close', (code, reason) => this.closed(code, reason.toString()));
    ws.on('error', () => {}); // 'close' follows every 'error'
  }

  /**
   * Opens the room's WebSocket. Rejects with {@link RendezvousError}: `unauthorized` (bad token), `room-full`,
   * `too-many-rooms`, `bad-room`, or `connection-lost` (unreachable, timeout, aborted).
   */
  static connect(url: string, options: WebSocketSignallerOptions = {}): Promise<WebSocketSignaller> {
    const { token, connectTimeoutMs = 10_000, maxMessageBytes = 16_384, maxQueued = 1000, signal } = options;
    if (!/^wss?:\/\//.test(url))
      return Promise.reject(new InvalidArgumentError('rendezvous URL must start with ws:// or wss://'));
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        handshakeTimeout: connectTimeoutMs,
        maxPayload: maxMessageBytes,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    } catch (err) {
      return Promise.reject(new InvalidArgumentError(`bad rendezvous URL ${url}: ${(err as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      const fail = (err: RendezvousError) => {
        signal?.removeEventListener('abort', abort);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      };
      const abort = () => fail(new RendezvousError('connection-lost', 'aborted', { cause: signal?.reason }));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        const reason = refusalFor(status) ?? 'connection-lost';
        fail(new RendezvousError(reason, `rendezvous refused the connection: HTTP ${status} (${reason})`));
      });
      ws.once('error', (err) =>
        fail(
          new RendezvousError('connection-lost', `cannot reach the rendezvous: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      ws.once('open', () => {
        signal?.removeEventListener('abort', abort);
        ws.removeAllListeners();
        resolve(new WebSocketSignaller(ws, maxQueued));
      });
    });
  }

  /** Sends one message, or queues it until a peer is in the room; rejects once the connection has ended. */
  async send(message: SignalMessage): Promise<void> {
    if (this.failure) throw this.failure;
    const text = JSON.stringify(message);
    if (this.peers === 0) {
      if (this.outbox.length >= this.maxQueued)
        throw new SignallingError('too many messages queued for the peer');
      this.outbox.push(text);
      return;
    }
    this.ws.send(text);
  }

  /** Registers a handler; messages that arrived before any handler are delivered to it at once. */
  onMessage(handler: (message: SignalMessage) => void): () => void {
    this.handlers.add(handler);
    for (const m of this.inbox.splice(0)) handler(m);
    return () => this.handlers.delete(handler);
  }

  /** Leaves the room (close code 1000). */
  close(): void {
    this.failure ??= new RendezvousError('connection-lost', 'signaller closed');
    this.ws.close(1000);
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    const value = isBinary ? undefined : this.parse(String(data));
    if (value === undefined) return;
    if (isNotice(value)) {
      this.notice(value);
      return;
    }
    let message: SignalMessage;
    try {
      message = validateSignalMessage(value);
    } catch (err) {
      this.reject('bad signalling message from the peer', err);
      return;
    }
    // a message from the peer proves it is in the room, even if its join notice was missed
    if (this.peers === 0) this.peerArrived();
    if (this.handlers.size > 0) {
      for (const h of this.handlers) h(message);
    } else if (this.inbox.length < this.maxQueued) {
      this.inbox.push(message);
    }
  }

  /** JSON text to a value; undefined (and an `'error'` event) for anything else. */
  private parse(text: string): unknown {
    try {
      const value: unknown = JSON.parse(text);
      if (value !== undefined) return value;
    } catch (err) {
      this.reject('signalling message is not JSON', err);
    }
    return undefined;
  }

  private notice(notice: RendezvousNotice): void {
    if (notice.rendezvous === 'welcome') {
      if (notice.peers > 0) this.peerArrived(notice.peers);
    } else if (notice.rendezvous === 'peer-joined') {
      this.peerArrived();
      this.emit('peer-joined');
    } else {
      this.peers = Math.max(0, this.peers - 1);
      this.emit('peer-left');
    }
  }

  private peerArrived(count = 1): void {
    this.peers += count;
    for (const text of this.outbox.splice(0)) this.ws.send(text);
  }

  private reject(message: string, cause?: unknown): void {
    this.emit('error', new SignallingError(message, { cause }));
  }

  private closed(code: number, reason: string): void {
    const ours = this.failure !== undefined;
    const why = refusalFor(code) ?? 'connection-lost';
    this.failure ??= new RendezvousError(
      why,
      `rendezvous connection closed: ${code}${reason ? ` ${reason}` : ''}`,
    );
    this.emit('close', ours ? undefined : this.failure);
  }
}

function isNotice(value: unknown): value is RendezvousNotice {
  if (typeof value !== 'object' || value === null) return false;
  const n = (value as Record<string, unknown>).rendezvous;
  if (n === 'welcome') return typeof (value as Record<string, unknown>).peers === 'number';
  return n === 'peer-joined' || n === 'peer-left';
}
