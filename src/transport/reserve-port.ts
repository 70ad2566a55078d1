import { createServer } from 'node:net';

/**
 * A local port that is free right now, found by listening on port 0 and closing at once. Nothing holds it
 * afterwards: the caller binds it for an outgoing connection next (a port must never be listened on before an
 * outgoing bind on Linux, so this is how a "dial from a known port" starts).
 */
export function reserveLocalPort(address?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: address, exclusive: true }, () => {
      const info = server.address();
      const port = typeof info === 'object' && info ? info.port : 0;
      server.close(() => resolve(port));
    });
  });
}
