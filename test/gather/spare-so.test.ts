import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCandidate } from '../../src/candidate/types.js';
import { StunStreamSplitter } from '../../src/framing/index.js';
import {
  explicitLocalAddresses,
  type GatherResource,
  gatherCandidates,
  type LocalEndpoint,
} from '../../src/gather/index.js';
import { SPARE_SO_PORTS } from '../../src/gather/spare-so.js';
import { answerBinding } from '../../src/server/index.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A STUN server on loopback that answers as if behind a port-preserving NAT at 198.51.100.9. */
async function preservingNatStunServer(): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const splitter = new StunStreamSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const request of splitter.push(chunk)) {
        const source = { family: 4 as const, address: '198.51.100.9', port: socket.remotePort ?? 0 };
        const outcome = answerBinding(request, { source });
        if (outcome.kind === 'reply') socket.write(outcome.response);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function gather(controlling: boolean): Promise<LocalCandidate[]> {
  const port = await preservingNatStunServer();
  const endpoints: LocalEndpoint[] = [];
  let id = 0;
  const { resources } = await gatherCandidates(
    {
      addresses: explicitLocalAddresses(['127.0.0.1']),
      tcpTypes: ['so'],
      stunServers: [{ host: '127.0.0.1', port }],
      turnServers: [],
      forceRelay: false,
      timeoutMs: 5000,
      nextId: () => `L${++id}`,
      wantsSpareSo: () => controlling,
    },
    (e) => endpoints.push(e),
  );
  cleanups.push(() => {
    for (const r of resources as GatherResource[]) r.reset();
    for (const e of endpoints) if (e.kind === 'so') e.port.close();
  });
  return endpoints.map((e) => e.candidate);
}

const soOf = (candidates: LocalCandidate[], type: 'host' | 'srflx') =>
  candidates.filter((c) => c.type === type && c.tcpType === 'so').sort((a, b) => b.priority - a.priority);

describe('spare S-O ports behind a port-preserving NAT', () => {
  it('the controlling agent adds spares in the primary S-O foundation, each ranked below the one before', async () => {
    const candidates = await gather(true);
    for (const type of ['host', 'srflx'] as const) {
      const so = soOf(candidates, type);
      expect(so).toHaveLength(1 + SPARE_SO_PORTS);
      // one foundation: RFC 8445 freezing keeps a spare's pairs frozen until the pair before it failed
      expect(new Set(so.map((c) => c.foundation)).size).toBe(1);
      expect(new Set(so.map((c) => c.priority)).size).toBe(so.length);
      expect(new Set(so.map((c) => c.basePort)).size).toBe(so.length);
    }
    // the NAT preserved every spare's port too, and host and srflx rank the ports in the same order
    const hostPorts = soOf(candidates, 'host').map((c) => c.port);
    expect(soOf(candidates, 'srflx').map((c) => c.port)).toEqual(hostPorts);
    expect(soOf(candidates, 'srflx').map((c) => c.basePort)).toEqual(hostPorts);
  });

  it('the controlled agent gathers none (both sides would thaw different 5-tuples)', async () => {
    const candidates = await gather(false);
    expect(soOf(candidates, 'host')).toHaveLength(1);
    expect(soOf(candidates, 'srflx')).toHaveLength(1);
  });
});
