import type net from 'node:net';
import createDebug from 'debug';
import { InvalidArgumentError, SocketError } from '../errors.js';
import { discardSocket } from '../transport/socket-errors.js';
import { asMuxMessage, type MuxIpcMessage } from './mux-cluster-messages.js';

const log = createDebug('ice-tcp:server:mux:worker');

/** How long a worker's listen() waits for the primary's answer (ms). */
const PRIMARY_ANSWER_TIMEOUT_MS = 10_000;

type AddressMessage = Extract<MuxIpcMessage, { iceTcpMux: 'address' }>;

/**
 * A mux in a `node:cluster` worker: tells the primary which ufrags this worker owns and takes the connections
 * the primary routes here (the socket as the IPC handle, the bytes it already read in the message).
 */
export class MuxClusterWorker {
  private readonly onMessage = (message: unknown, handle: unknown) => this.receive(message, handle);
  private waiting: ((message: AddressMessage) => void) | undefined;
  private started = false;

  constructor(private readonly route: (ufrag: string, socket: net.Socket, head: Buffer) => boolean) {}

  /** Asks the primary for the port's address; SocketError when it does not answer. */
  async start(): Promise<Omit<AddressMessage, 'iceTcpMux'>> {
    if (typeof process.send !== 'function')
      throw new InvalidArgumentError('cluster: true needs a node:cluster worker (no IPC channel here)');
    if (!this.started) {
      this.started = true;
      process.on('message', this.onMessage);
    }
    const answer = new Promise<AddressMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(
          new SocketError('the cluster primary did not answer: is IceTcpMux.primary() running?', 'ETIMEDOUT'),
        );
      }, PRIMARY_ANSWER_TIMEOUT_MS);
      this.waiting = (message) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(message);
      };
    });
    this.send({ iceTcpMux: 'hello' });
    const { address, port, publicAddress } = await answer;
    return { address, port, ...(publicAddress ? { publicAddress } : {}) };
  }

  /** Tells the primary that this worker owns `ufrag` now (true) or no longer (false). */
  announce(ufrag: string, owned: boolean): void {
    this.send({ iceTcpMux: 'own', ufrag, owned });
  }

  /** Stops taking connections; lets the IPC channel go. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    process.off('message', this.onMessage);
  }

  private send(message: MuxIpcMessage): void {
    if (!process.connected) return;
    try {
      process.send?.(message, undefined, {}, (error: Error | null) => {
        if (error) log('IPC send failed: %s', error.message);
      });
    } catch (error) {
      log('IPC send failed: %s', (error as Error).message);
    }
  }

  private receive(value: unknown, handle: unknown): void {
    const message = asMuxMessage(value);
    if (message?.iceTcpMux === 'address') {
      this.waiting?.(message);
      return;
    }
    if (message?.iceTcpMux !== 'connection') return;
    const socket = handle as net.Socket | undefined;
    if (socket === undefined || typeof socket.pause !== 'function') return;
    socket.on('error', ignoreError);
    socket.pause();
    const head = Buffer.from(message.head, 'base64');
    if (!this.started || !this.route(message.ufrag, socket, head)) {
      log('connection for %s: nobody here owns it', message.ufrag);
      discardSocket(socket);
    }
  }
}

function ignoreError(): void {}
