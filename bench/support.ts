/** Small pieces every bench script uses. */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { Candidate, IceAgent } from '../src/index.js';

/** Median (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The nearest-rank percentile `p` (0..1); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Gathers and returns the agent's candidates (the trickled ones, without the end marker). */
export async function gathered(agent: IceAgent): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  agent.on('candidate', (c) => {
    if (c) candidates.push(c);
  });
  await agent.gather();
  return candidates;
}

/**
 * A server listening on an ephemeral port of 127.0.0.1: its port, and the first connection it accepts (the benches'
 * raw baselines and their worker pairs).
 */
export async function loopbackListener(): Promise<{
  server: Server;
  port: number;
  accepted: Promise<Socket>;
}> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no server address');
  const accepted = (once(server, 'connection') as Promise<[Socket]>).then(([socket]) => socket);
  return { server, port: address.port, accepted };
}

/** Holds each chunk `delayMs` before handing it on: a path with that one-way delay. */
export class DelayRelays {
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  constructor(private readonly delayMs: number) {}

  /** A relay to 127.0.0.1:`port`; resolves with its own port. */
  async to(port: number): Promise<number> {
    // no Nagle on the relay either: the agent's own sockets have none, and a held segment would read as a stall
    const server = createServer({ noDelay: true }, (inbound) => {
      const outbound = connect({ host: '127.0.0.1', port, noDelay: true });
      this.sockets.push(inbound, outbound);
      this.pipe(inbound, outbound);
      this.pipe(outbound, inbound);
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  close(): void {
    for (const s of this.sockets.splice(0)) s.destroy();
    for (const s of this.servers.splice(0)) s.close();
  }

  private pipe(from: Socket, to: Socket): void {
    from.on('error', () => to.destroy());
    from.on('data', (d) => setTimeout(() => to.writable && to.write(d), this.delayMs));
    from.on('end', () => setTimeout(() => to.end(), this.delayMs));
    from.on('close', () => setTimeout(() => to.destroy(), this.delayMs));
  }
}
