import cluster, { type Worker } from 'node:cluster';
import type net from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import type { IceTcpError } from '../errors.js';
import { assertIpAddress, assertPort } from '../transport/listen-port.js';
import { discardSocket } from '../transport/socket-errors.js';
import { MuxAcceptor, type MuxCounters, type MuxLimits, resolveMuxLimits } from './mux-acceptor.js';
import { asMuxMessage, type MuxIpcMessage } from './mux-cluster-messages.js';

const log = createDebug('ice-tcp:server:mux:primary');

/** Options of {@link IceTcpMux.primary}. */
export interface MuxPrimaryOptions extends MuxLimits {
  /** Local IP to listen on (numeric). Default '0.0.0.0'. */
  host?: string;
  /** Port to listen on; 0 (default) lets the kernel pick. */
  port?: number;
  /** Where peers reach the port from outside; the workers' agents advertise it (see IceTcpMuxOptions). */
  publicAddress?: { address: string; port: number };
}

/** Events of a {@link MuxPrimary}. */
export type MuxPrimaryEvents = { error: [IceTcpError] };

/** The internal handle of a net.Socket: stopping its reads keeps the kernel's bytes for the worker. */
interface ReadableHandle {
  readStop?: () => number;
}

/**
 * The accepting side of a mux under `node:cluster`: one listener in the primary, the agents in the workers.
 * Each connection is held until its first request (caps and deadline as {@link IceTcpMux}); the worker that
 * announced the ufrag gets the socket as an IPC handle and the bytes read so far in the message.
 */
export class MuxPrimary extends EventEmitter<MuxPrimaryEvents> {
  private readonly owners = new Map<string, Worker>();
  private readonly acceptor: MuxAcceptor;
  private readonly host: string;
  private readonly port: number;
  private readonly publicAddress: { address: string; port: number } | undefined;
  private readonly waiting = new Set<Worker>();
  private bound: { address: string; port: number } | undefined;
  private readonly onMessage = (worker: Worker, message: unknown) => this.receive(worker, message);
  private readonly onExit = (worker: Worker) => this.forget(worker);

  constructor(options: MuxPrimaryOptions) {
    super();
    this.host = options.host ?? '0.0.0.0';
    this.port = options.port ?? 0;
    assertIpAddress(this.host, 'host');
    assertPort(this.port, 'port', true);
    if (options.publicAddress) {
      assertIpAddress(options.publicAddress.address, 'publicAddress.address');
      assertPort(options.publicAddress.port, 'publicAddress.port', false);
      this.publicAddress = { ...options.publicAddress };
    }
    this.acceptor = new MuxAcceptor(
      resolveMuxLimits(options),
      (ufrag, socket, head) => this.route(ufrag, socket, head),
      (e) => this.emit('error', e),
    );
    cluster.on('message', this.onMessage);
    cluster.on('exit', this.onExit);
  }

  /** Listens; resolves with the address bound. Workers that asked before get it now. */
  async listen(): Promise<{ address: string; port: number }> {
    this.bound ??= await this.acceptor.listen(this.host, this.port);
    for (const worker of this.waiting) this.sendAddress(worker);
    this.waiting.clear();
    return this.bound;
  }

  /** The address listened on, once listening. */
  address(): { address: string; port: number } | undefined {
    return this.bound ? { ...this.bound } : undefined;
  }

  /** Ufrags the workers own now. */
  get registered(): number {
    return this.owners.size;
  }

  /** Connections held now before their first request. */
  get pending(): number {
    return this.acceptor.pending;
  }

  /** What happened to the connections accepted so far. */
  get counters(): MuxCounters {
    return { ...this.acceptor.counters };
  }

  /** Stops listening and resets the connections still held; stops listening to the workers. */
  async close(): Promise<void> {
    cluster.off('message', this.onMessage);
    cluster.off('exit', this.onExit);
    this.owners.clear();
    await this.acceptor.close();
  }

  private receive(worker: Worker, value: unknown): void {
    const message = asMuxMessage(value);
    if (message?.iceTcpMux === 'hello') {
      if (this.bound) this.sendAddress(worker);
      else this.waiting.add(worker);
    } else if (message?.iceTcpMux === 'own') {
      if (message.owned) this.owners.set(message.ufrag, worker);
      else if (this.owners.get(message.ufrag) === worker) this.owners.delete(message.ufrag);
    }
  }

  private sendAddress(worker: Worker): void {
    const bound = this.bound as { address: string; port: number };
    const message: MuxIpcMessage = {
      iceTcpMux: 'address',
      ...bound,
      ...(this.publicAddress ? { publicAddress: this.publicAddress } : {}),
    };
    if (worker.isConnected()) worker.send(message, undefined, {}, () => undefined);
  }

  private route(ufrag: string, socket: net.Socket, head: Buffer): boolean {
    const worker = this.owners.get(ufrag);
    if (worker === undefined || !worker.isConnected()) return false;
    // Once the handle is sent its reads land nowhere (Node sets its onread to a no-op): stop reading now, so
    // that what the peer sends meanwhile waits in the kernel for the worker.
    (socket as unknown as { _handle?: ReadableHandle })._handle?.readStop?.();
    const message: MuxIpcMessage = { iceTcpMux: 'connection', ufrag, head: head.toString('base64') };
    worker.send(message, socket, { keepOpen: false }, (error: Error | null) => {
      if (error === null) return;
      log('hand-off of %s to worker %d failed: %s', ufrag, worker.id, error.message);
      discardSocket(socket);
    });
    return true;
  }

  private forget(worker: Worker): void {
    this.waiting.delete(worker);
    for (const [ufrag, owner] of this.owners) if (owner === worker) this.owners.delete(ufrag);
  }
}
