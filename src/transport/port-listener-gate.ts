import net from 'node:net';
import createDebug from 'debug';

const log = createDebug('ice-tcp:transport:so');

/**
 * The optional listener of a simultaneous-open port, kept out of the way of outgoing binds.
 *
 * Linux refuses an outgoing bind on a port that has a LISTEN socket (EADDRINUSE), but a port may start
 * listening after outgoing sockets bound it. So every outgoing bind is bracketed by beforeBind() and
 * afterBind(): the listener is closed before (libuv closes the fd inside server.close(), so the port is free
 * at once: measured) and opened again once no bind is in flight.
 */
export class PortListenerGate {
  private readonly address: string;
  private readonly port: number;
  private readonly onSocket: (socket: net.Socket) => void;
  private server: net.Server | undefined;
  private starting: Promise<void> | undefined;
  private bindsInFlight = 0;
  private wanted = false;

  constructor(address: string, port: number, onSocket: (socket: net.Socket) => void) {
    this.address = address;
    this.port = port;
    this.onSocket = onSocket;
  }

  /** Whether a listener is up right now (for tests and stats). */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Asks for a listener whenever no bind is in flight (true), or for none at all (false). */
  setWanted(wanted: boolean): void {
    this.wanted = wanted;
    if (wanted) this.maybeStart();
    else this.stop();
  }

  /**
   * No dial needs the listener any more: like setWanted(false), but it first lets a poll phase accept the
   * handshakes the kernel already completed (as beforeBind() does), so that a peer's SYN that met the port
   * just as the last dial ended is handed on instead of reset.
   */
  release(): void {
    this.wanted = false;
    const server = this.server;
    if (server === undefined) return;
    void afterNextPoll().then(() => {
      if (!this.wanted && this.server === server) this.stop();
    });
  }

  /** Call before creating a socket that binds the port; resolves once no listener holds the port. */
  async beforeBind(): Promise<void> {
    this.bindsInFlight++;
    // server.listen() on a numeric host still listens a tick later: wait for it, or it would land after our bind.
    while (this.starting !== undefined) await this.starting;
    // Closing a listener resets the handshakes the kernel completed that libuv has not accepted yet: a peer's
    // SYN that met the port between two of our SYNs (docs/ARCHITECTURE.md, RST ping-pong). Let a poll phase
    // accept them first; the reset would also leave the NATs' conntrack entries refusing the 5-tuple.
    if (this.server !== undefined) await afterNextPoll();
    this.stop();
  }

  /** Call once that socket is bound (its 'connectionAttempt') or failed; exactly once per beforeBind(). */
  afterBind(): void {
    this.bindsInFlight--;
    this.maybeStart();
  }

  private maybeStart(): void {
    if (!this.wanted || this.bindsInFlight > 0 || this.server !== undefined || this.starting !== undefined)
      return;
    const server = net.createServer({ noDelay: true });
    server.on('connection', this.onSocket);
    this.starting = new Promise((resolve) => {
      const onStartError = (error: Error) => {
        this.starting = undefined;
        // Not fatal: dials still work without it; the next afterBind() tries again.
        log('S-O %s:%d: listen failed: %s', this.address, this.port, error.message);
        resolve();
      };
      server.once('error', onStartError);
      server.once('listening', () => {
        server.off('error', onStartError);
        server.on('error', (error) => log('S-O %s:%d listener: %s', this.address, this.port, error.message));
        this.starting = undefined;
        this.server = server;
        if (!this.wanted) this.stop();
        resolve();
      });
      server.listen({ host: this.address, port: this.port, exclusive: true });
    });
  }

  private stop(): void {
    if (this.server === undefined) return;
    this.server.close();
    this.server = undefined;
  }
}

/** Resolves after the event loop has polled for I/O at least once (a single setImmediate may run before). */
function afterNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
