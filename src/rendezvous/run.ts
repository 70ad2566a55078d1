import type { RendezvousOptions } from './options.js';
import { redactUrl } from './redis-bus.js';
import { RendezvousServer } from './server.js';

/** What `runRendezvous` needs from its caller: where to print, and the process signals to stop on. */
export interface RunRendezvousIo {
  /** One line of output (a JSON object with `json`, else text). */
  print(line: string): void;
  /** Resolves when the server should stop (the CLI's SIGINT or SIGTERM). */
  stopped: Promise<unknown>;
}

/**
 * `ice-tcp rendezvous`: starts a {@link RendezvousServer}, prints where it listens, and runs until
 * `io.stopped`. Without `token`, ICE_TCP_RENDEZVOUS_TOKEN is the token if set. Rejects with the start error (InvalidArgumentError, a listen error, or
 * SignallingError when Redis is unreachable) so that the CLI exits non-zero with a typed message.
 */
export async function runRendezvous(
  options: RendezvousOptions & { json?: boolean },
  io: RunRendezvousIo,
): Promise<void> {
  const { json = false, ...given } = options;
  // the environment keeps the secret out of the process list, where a --token flag would show it
  const serverOptions = {
    ...given,
    token: given.token ?? (process.env.ICE_TCP_RENDEZVOUS_TOKEN || undefined),
  };
  const server = await RendezvousServer.start(serverOptions);
  const { host, port } = server.address;
  const info = {
    event: 'listening',
    host,
    port,
    url: server.url('<room>'),
    token: serverOptions.token !== undefined,
    redis: serverOptions.redisUrl ? redactUrl(serverOptions.redisUrl) : null,
  };
  io.print(
    json
      ? JSON.stringify(info)
      : `rendezvous listening on ${info.url}${info.token ? ' (token required)' : ''}` +
          (info.redis ? `, rooms shared through ${info.redis}` : ''),
  );
  await io.stopped;
  await server.close();
  if (json) io.print(JSON.stringify({ event: 'closed' }));
}
