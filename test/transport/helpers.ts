import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** Resolves with the arguments of the next `event` of any emitter (node:events or eventemitter3). */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: object, event: string): Promise<T> {
  // Typed emitters narrow `once` per event name; tests only need the raw arguments.
  const target = emitter as { once(event: string, listener: (...args: unknown[]) => void): unknown };
  return new Promise((resolve) => {
    target.once(event, (...args: unknown[]) => resolve(args as T));
  });
}

/** A listening plain server on 127.0.0.1 that hands accepted sockets to `onSocket`. */
export async function plainServer(onSocket: (socket: net.Socket) => void = () => {}): Promise<net.Server> {
  const server = net.createServer((socket) => {
    // the code under test resets connections on purpose; an unhandled RST would fail the whole run
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return server;
}

/** The port a plain server listens on. */
export function portOf(server: net.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  return address.port;
}

/** Two raw loopback sockets connected to each other. */
export async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  let accepted: (socket: net.Socket) => void = () => {};
  const acceptedSocket = new Promise<net.Socket>((resolve) => {
    accepted = resolve;
  });
  const listener = await plainServer((socket) => accepted(socket));
  const client = net.connect({ host: '127.0.0.1', port: portOf(listener), autoSelectFamily: false });
  const [server] = await Promise.all([acceptedSocket, nextEvent(client, 'connect')]);
  listener.close();
  for (const socket of [client, server]) socket.on('error', () => {});
  return {
    client,
    server,
    close() {
      client.destroy();
      server.destroy();
    },
  };
}

/** A loopback port with nothing listening (a SYN to it draws RST: ECONNREFUSED). */
export async function closedPort(): Promise<number> {
  const server = await plainServer();
  const port = portOf(server);
  server.close();
  return port;
}

/**
 * A loopback port whose SYNs go unanswered: a listener in a stopped child process with a full accept
 * queue (the kernel drops SYNs once it is full). Gives real connect timeouts without root.
 */
export async function stalledPort(): Promise<{ port: number; close(): void }> {
  const script = `const s=require('node:net').createServer();s.listen({host:'127.0.0.1',port:0,backlog:1},()=>{console.log(s.address().port);process.kill(process.pid,'SIGSTOP')})`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
  const port = Number(first.value);
  const fillers: net.Socket[] = [];
  const close = () => {
    for (const socket of fillers) socket.destroy();
    child.kill('SIGKILL');
  };
  // Fill the accept queue until a connect no longer completes; from then on every SYN is dropped.
  for (let i = 0; i < 16; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await Promise.race([
      nextEvent(socket, 'connect').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300)),
    ]);
    if (!connected) return { port, close };
  }
  close();
  throw new Error('could not fill the accept queue of the stalled listener');
}

/** Linux TCP states as /proc/net/tcp numbers them. */
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** IPv4 TCP sockets of this network namespace, as the kernel lists them (TIME_WAIT included). */
export async function kernelSockets(): Promise<
  Array<{ localPort: number; remotePort: number; state: string }>
> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('/proc/net/tcp', 'utf8');
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 3)
    .map(([, local = '', remote = '', state = '']) => ({
      localPort: Number.parseInt(local.split(':')[1] ?? '0', 16),
      remotePort: Number.parseInt(remote.split(':')[1] ?? '0', 16),
      state: TCP_STATES[state] ?? state,
    }));
}

/** Whether the kernel holds an ESTABLISHED IPv4 socket on local port `port` (read synchronously). */
export function establishedOn(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((line) => {
      const [, local = '', , state] = line.trim().split(/\s+/);
      return local.endsWith(hex) && state === '01';
    });
}

/** Holds the event loop until the kernel completed the handshake to `port` (loopback: at once). */
export function blockUntilEstablished(port: number): void {
  const deadline = Date.now() + 5000;
  while (!establishedOn(port)) if (Date.now() > deadline) throw new Error('handshake never completed');
}
