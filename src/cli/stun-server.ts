import { StunServer, type StunServerOptions } from '../server/index.js';

/** Options of `ice-tcp stun-server`. */
export interface StunServerCommandOptions {
  host: string;
  port: number;
  alternatePort?: number;
  alternateHost?: string;
  json: boolean;
  /** Connection policy and SOFTWARE (`--max-connections`, `--request-timeout-ms`, ...); unset = defaults. */
  policy?: Omit<StunServerOptions, 'host' | 'port' | 'alternatePort' | 'alternateHost'>;
}

/** Runs the STUN server until SIGINT/SIGTERM; prints where it listens. */
export async function runStunServer(options: StunServerCommandOptions): Promise<number> {
  const server = await StunServer.start({
    host: options.host,
    port: options.port,
    alternatePort: options.alternatePort,
    alternateHost: options.alternateHost,
    ...options.policy,
  });
  server.on('error', (err) => process.stderr.write(`stun-server: ${err.message}\n`));
  const info = { event: 'listening', primary: server.primary, alternate: server.alternate ?? null };
  if (options.json) console.log(JSON.stringify(info));
  else {
    console.log(`STUN server (TCP and UDP) on ${server.primary.host}:${server.primary.port}`);
    if (server.alternate) console.log(`alternate endpoint ${server.alternate.host}:${server.alternate.port}`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
