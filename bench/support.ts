/** Small pieces every bench script uses. */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
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
