import { isIP } from 'node:net';
import createDebug from 'debug';
import { EventEmitter } from 'eventemitter3';
import { ClosedError, type IceTcpError, InvalidArgumentError } from '../errors.js';
import { assertIpAddress, assertPort } from '../transport/listen-port.js';
import { MuxAcceptor, type MuxCounters, type MuxLimits, resolveMuxLimits } from './mux-acceptor.js';
import { MuxClusterWorker } from './mux-cluster-worker.js';
import { MuxPrimary, type MuxPrimaryOptions } from './mux-primary.js';
import { MuxRegistration, type MuxRegistrationOptions } from './mux-registration.js';

const log = createDebug('ice-tcp:server:mux');

/** An address and port. */
export interface MuxAddress {
  address: string;
  port: number;
}

/** Options of an {@link IceTcpMux}. */
export interface IceTcpMuxOptions extends MuxLimits {
  /** Local IP to listen on (numeric). Default '0.0.0.0'. Ignored with `cluster`. */
  host?: string;
  /** Port to listen on; 0 (default) lets the kernel pick. Ignored with `cluster`. */
  port?: number;
  /**
   * Where peers reach this port from outside (a NAT's or load balancer's forwarded address): agents advertise it
   * as a server-reflexive passive candidate beside the host one.
   */
  publicAddress?: MuxAddress;
  /**
   * In a `node:cluster` worker: accept nothing here; the primary's {@link IceTcpMux.primary} accepts on the one
   * port and hands each connection to the worker whose agent owns its ufrag.
   */
  cluster?: boolean;
}

/** Events of an {@link IceTcpMux}: a listener failure after listen() resolved. */
export type IceTcpMuxEvents = { error: [IceTcpError] };

/**
 * One TCP port for many agents (the passive side of ICE-TCP on a server's well-known port). Each inbound
 * connection is held until its first RFC 4571 frame, a STUN Binding request whose USERNAME
 * (`local-ufrag:remote-ufrag`) names an agent's current ufrag; it is then handed to that agent as if accepted
 * on a passive port of its own. Anything else is closed at once; a connection silent past
 * `firstRequestTimeoutMs` (loop time: a stall of the event loop does not count) is closed; at the caps the oldest
 * held connection goes, never the newcomer. A burst is handed over a batch per loop turn (MUX_ROUTES_PER_TURN).
 * Pass it to agents as the `mux` option.
 */
export class IceTcpMux extends EventEmitter<IceTcpMuxEvents> {
  private readonly registrations = new Map<string, MuxRegistration>();
  private readonly acceptor: MuxAcceptor | undefined;
  private readonly worker: MuxClusterWorker | undefined;
  private readonly host: string;
  private readonly port: number;
  private publicAddr: MuxAddress | undefined;
  private bound: MuxAddress | undefined;
  private closed = false;

  constructor(options: IceTcpMuxOptions = {}) {
    super();
    const limits = resolveMuxLimits(options);
    this.host = options.host ?? '0.0.0.0';
    this.port = options.port ?? 0;
    assertIpAddress(this.host, 'host');
    assertPort(this.port, 'port', true);
    if (options.publicAddress !== undefined) {
      assertIpAddress(options.publicAddress.address, 'publicAddress.address');
      assertPort(options.publicAddress.port, 'publicAddress.port', false);
      this.publicAddr = { ...options.publicAddress };
    }
    const route = (ufrag: string, socket: import('node:net').Socket, head: Buffer) => {
      const registration = this.registrations.get(ufrag);
      if (registration === undefined) return false;
      registration.accept(socket, head);
      return true;
    };
    if (options.cluster === true) this.worker = new MuxClusterWorker(route);
    else this.acceptor = new MuxAcceptor(limits, route, (e) => this.emit('error', e));
  }

  /**
   * For the `node:cluster` primary: listens on the one port and routes each connection to the worker whose
   * `new IceTcpMux({ cluster: true })` registered the ufrag (socket and bytes read passed over IPC).
   */
  static primary(options: MuxPrimaryOptions = {}): MuxPrimary {
    return new MuxPrimary(options);
  }

  /** Starts listening (in a cluster worker: learns the primary's address); resolves with the address bound. */
  async listen(): Promise<MuxAddress> {
    if (this.closed) throw new ClosedError('mux closed');
    if (this.bound) return this.bound;
    if (this.worker) {
      const learned = await this.worker.start();
      this.publicAddr ??= learned.publicAddress;
      this.bound = { address: learned.address, port: learned.port };
    } else {
      this.bound = await (this.acceptor as MuxAcceptor).listen(this.host, this.port);
    }
    return this.bound;
  }

  /** The address agents advertise; InvalidArgumentError before listen() resolved. */
  address(): MuxAddress {
    if (this.bound === undefined)
      throw new InvalidArgumentError('mux is not listening: await mux.listen() first');
    return { ...this.bound };
  }

  /** The public address given in the options (or by the cluster primary), if any. */
  get publicAddress(): MuxAddress | undefined {
    return this.publicAddr ? { ...this.publicAddr } : undefined;
  }

  /** Ufrags registered now (one per live agent generation with a passive candidate here). */
  get registered(): number {
    return this.registrations.size;
  }

  /** Connections held now before their first request (0 in a cluster worker: the primary holds them). */
  get pending(): number {
    return this.acceptor?.pending ?? 0;
  }

  /** What happened to the connections accepted so far (all zero in a cluster worker). */
  get counters(): MuxCounters {
    return {
      ...(this.acceptor?.counters ?? { accepted: 0, routed: 0, unknownUfrag: 0, badRequest: 0, evicted: 0 }),
    };
  }

  /**
   * Routes connections whose first request names `ufrag` to the returned registration, until it is closed.
   * Used by the agent (option `mux`); InvalidArgumentError when the ufrag is taken or the mux is not listening.
   * @internal
   */
  register(ufrag: string, options: MuxRegistrationOptions = {}): MuxRegistration {
    if (this.closed) throw new ClosedError('mux closed');
    const { address, port } = this.address();
    if (this.registrations.has(ufrag))
      throw new InvalidArgumentError(`ufrag ${ufrag} is already registered on this mux`);
    const registration = new MuxRegistration(address, port, ufrag, options, (r) => this.unregister(r));
    this.registrations.set(ufrag, registration);
    this.worker?.announce(ufrag, true);
    log('registered %s (%d)', ufrag, this.registrations.size);
    return registration;
  }

  /** Stops listening, resets every connection still held and releases every registration. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const registration of [...this.registrations.values()]) registration.close();
    this.worker?.stop();
    await this.acceptor?.close();
  }

  private unregister(registration: MuxRegistration): void {
    if (this.registrations.get(registration.ufrag) !== registration) return;
    this.registrations.delete(registration.ufrag);
    this.worker?.announce(registration.ufrag, false);
    log('released %s (%d)', registration.ufrag, this.registrations.size);
  }
}

/** Whether `address` is a wildcard (0.0.0.0 or ::). */
export function isWildcard(address: string): boolean {
  return isIP(address) !== 0 && /^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(address);
}
