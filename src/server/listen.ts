import dgram from 'node:dgram';
import net from 'node:net';
import { wrapError } from '../errors.js';

/** Starts a TCP listener; rejects with {@link SocketError} (EADDRINUSE, EADDRNOTAVAIL, ...) when it cannot bind. */
export function listenTcp(
  host: string,
  port: number,
  onConnection: (socket: net.Socket) => void,
  onError: (error: Error) => void,
): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, onConnection);
    server.once('error', (error) => reject(wrapError(error, `listen on TCP ${host}:${port}`)));
    // A deep backlog so that a burst of connects is accepted (and judged) instead of dropped as SYNs.
    server.listen({ host, port, backlog: 2048, exclusive: true }, () => {
      // From now on errors (EMFILE on accept, ...) are reported, never thrown: an unhandled 'error' would crash.
      server.removeAllListeners('error');
      server.on('error', onError);
      resolve(server);
    });
  });
}

/** Binds a UDP socket; rejects with {@link SocketError} when it cannot bind. */
export function bindUdp(
  host: string,
  port: number,
  onMessage: (message: Buffer, remote: dgram.RemoteInfo) => void,
  onError: (error: Error) => void,
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' }, onMessage);
    socket.once('error', (error) => {
      socket.close();
      reject(wrapError(error, `bind UDP ${host}:${port}`));
    });
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', onError);
      resolve(socket);
    });
  });
}

/** Closes a TCP listener (connections are the caller's); never rejects. */
export function closeTcp(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Closes a UDP socket; never rejects. */
export function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
