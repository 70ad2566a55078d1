import { StunServer, type StunServerOptions } from '../server/index.js';
import { type CliIo, writeLine } from './io.js';

/** Options of `ice-tcp stun-server`. */
export interface StunServerCommandOptions {
  io: CliIo;
  host: string;
  port: number;
  alternatePort?: number;
  alternateHost?: string;
  json: boolean;
  /** Connection policy and SOFTWARE (`--max-connections`, `--request-timeout-ms`, ...); unset = defaults. */
  policy?: Omit<StunServerOptions, 'host' | 'port' | 'alternatePort' | 'alternateHost'>;
}

/** Runs the STUN server until `io.stopped()` (SIGINT/SIGTERM); prints where it listens. */
export async function runStunServer(options: StunServerCommandOptions): Promise<number> {
  const { io } = options;
  const print = (line: string) => writeLine(io.stdout, line);
  const server = await StunServer.start({
    host: options.host,
    port: options.port,
    alternatePort: options.alternatePort,
    alternateHost: options.alternateHost,
    ...options.policy,
  });
  server.on('error', (err) => io.stderr.write(`stun-server: ${err.message}\n`));
  const info = { event: 'listening', primary: server.primary, alternate: server.alternate ?? null };
  if (options.json) print(JSON.stringify(info));
  else {
    print(`STUN server (TCP and UDP) on ${server.primary.host}:${server.primary.port}`);
    if (server.alternate) print(`alternate endpoint ${server.alternate.host}:${server.alternate.port}`);
  }
  await io.stopped();
  await server.close();
  return 0;
}
