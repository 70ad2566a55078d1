import net from 'node:net';
import createDebug from 'debug';
import { type IceTcpError, TurnError } from '../errors.js';
import { FramedConnection } from '../transport/index.js';
import type { TurnAllocation, TurnPeerConnection } from '../turn/index.js';
import type { RelayEndpointHandle } from './endpoint.js';

const log = createDebug('ice-tcp:gather:relay');

/** Pauses between Connect attempts: the peer's TURN server may not have our permission yet. */
const CONNECT_RETRY_DELAYS_MS = [50, 100, 200, 400, 800];

/**
 * One TURN allocation serving the agent's two relayed candidates: `active` opens relayed connections with
 * Connect + ConnectionBind, `passive` receives peers as ConnectionAttempt + ConnectionBind. Each peer
 * connection is framed (RFC 4571) and reports the peer's address, not the TURN server's.
 * The allocation is released only after the connections it carries have closed, because deallocating
 * makes the server drop them, the nominated one included.
 */
export class RelayAllocation {
  private readonly connections = new Set<FramedConnection>();
  private readonly permitted = new Set<string>();
  private inboundHandler: ((connection: FramedConnection) => void) | undefined;
  private released = false;

  constructor(
    readonly allocation: TurnAllocation,
    private readonly maxFrameSize: number,
    private readonly onError: (error: IceTcpError) => void,
  ) {
    allocation.on('connection', (c) => this.onInbound(c));
    allocation.on('error', (e) => this.onError(e));
  }

  /** The endpoint operations of one relayed candidate; inbound peers go to the passive one only. */
  handle(kind: 'active' | 'passive'): RelayEndpointHandle {
    return {
      connect: (address, port, timeoutMs) => this.connect(address, port, timeoutMs),
      onInbound: (handler) => {
        if (kind === 'passive') this.inboundHandler = handler;
      },
      permit: (address) => this.permit(address),
      close: () => this.release(),
      lost: () => this.allocation.lostError,
    };
  }

  /** Installs a permission for a remote candidate's IP, when it is of the relayed address's family. */
  permit(address: string): void {
    const family = net.isIP(address);
    if (family !== this.allocation.relayedAddress.family || this.permitted.has(address)) return;
    if (address === '0.0.0.0' || address === '::') return; // a hidden raddr, nobody connects from it
    if (this.released || this.allocation.closed) return;
    this.permitted.add(address);
    this.allocation.createPermission([address]).catch((err: IceTcpError) => {
      this.permitted.delete(address);
      if (!this.released) this.onError(err);
    });
  }

  /** Stops taking peers and deallocates once every connection it handed out has closed. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.inboundHandler = undefined;
    this.closeIfIdle();
  }

  private async connect(address: string, port: number, timeoutMs: number): Promise<FramedConnection> {
    const family = net.isIP(address);
    if (family !== 4 && family !== 6) throw new TurnError(`relay: not an IP address: ${address}`);
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (this.released) throw new TurnError('relay released', undefined, 'ERR_TURN_CONNECTION');
      try {
        const peer = await this.allocation.connect(
          { family, address, port },
          { timeoutMs: Math.max(1, deadline - Date.now()) },
        );
        // A peer TURN server without our permission accepts and drops at once: worth another try.
        if (peer.socket.destroyed || peer.socket.readableEnded) {
          peer.socket.destroy();
          throw new TurnError('relayed connection closed at once', undefined, 'ERR_TURN_CONNECTION');
        }
        return this.frame(peer);
      } catch (err) {
        const delay = CONNECT_RETRY_DELAYS_MS[Math.min(attempt, CONNECT_RETRY_DELAYS_MS.length - 1)] ?? 800;
        // 447: the peer (or its TURN server) refused us for now; 446: that connection exists, waiting won't help
        const retryable =
          (err as IceTcpError).code === 'ERR_TURN_CONNECTION' && (err as TurnError).stunCode !== 446;
        if (!retryable || Date.now() + delay >= deadline) throw err;
        log('connect %s:%d: %s; again in %d ms', address, port, (err as Error).message, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private onInbound(peer: TurnPeerConnection): void {
    const handler = this.inboundHandler;
    if (!handler || this.released) {
      peer.socket.destroy();
      return;
    }
    handler(this.frame(peer));
  }

  private frame(peer: TurnPeerConnection): FramedConnection {
    const connection = new FramedConnection(peer.socket, {
      maxFrameSize: this.maxFrameSize,
      peer: { address: peer.peer.address, port: peer.peer.port },
    });
    this.connections.add(connection);
    connection.once('close', () => {
      this.connections.delete(connection);
      this.closeIfIdle();
    });
    return connection;
  }

  private closeIfIdle(): void {
    if (!this.released || this.connections.size > 0 || this.allocation.closed) return;
    log('releasing %s:%d', this.allocation.relayedAddress.address, this.allocation.relayedAddress.port);
    void this.allocation.close();
  }
}
