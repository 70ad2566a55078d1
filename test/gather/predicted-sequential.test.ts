import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { predictedKind } from '../../src/candidate/predicted.js';
import { candidatePriority } from '../../src/candidate/priority.js';
import { StunStreamSplitter } from '../../src/framing/index.js';
import type { LocalEndpoint } from '../../src/gather/index.js';
import { gatherSequentialPredicted } from '../../src/gather/predicted-sequential.js';
import { answerBinding } from '../../src/server/index.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A STUN server on loopback that reports the n-th connection as mapped to `portOf(n, localPort)`. */
async function natStunServer(portOf: (n: number, clientPort: number) => number): Promise<number> {
  let n = 0;
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const index = n++;
    const splitter = new StunStreamSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const request of splitter.push(chunk)) {
        const source = {
          family: 4 as const,
          address: '198.51.100.9',
          port: portOf(index, socket.remotePort ?? 0),
        };
        const outcome = answerBinding(request, { source });
        if (outcome.kind === 'reply') socket.write(outcome.response);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function predict(portOf: (n: number, clientPort: number) => number, measured: number[] = []) {
  const port = await natStunServer(portOf);
  const endpoints: LocalEndpoint[] = [];
  let id = 0;
  await gatherSequentialPredicted(
    {
      server: { host: '127.0.0.1', port },
      baseAddress: '127.0.0.1',
      otherPreference: 8191,
      measuredPorts: new Set(measured),
      timeoutMs: 2000,
      nextId: () => `P${++id}`,
      window: 4,
    },
    (e) => endpoints.push(e),
  );
  for (const e of endpoints) if (e.kind === 'so') cleanups.push(() => e.port.close());
  return endpoints;
}

describe('sequential port prediction', () => {
  it('advertises the next ports after a constant step, each on its own S-O port, ranked below srflx', async () => {
    const endpoints = await predict((n) => 20000 + 2 * n);
    // probes saw 20000, 20002, 20004: the window is the next four steps
    expect(endpoints.map((e) => e.candidate.port)).toEqual([20006, 20008, 20010, 20012]);
    const srflx = candidatePriority({ type: 'srflx', tcpType: 'so', otherPreference: 8191 });
    const relay = candidatePriority({ type: 'relay', tcpType: 'so', otherPreference: 8191 });
    for (const e of endpoints) {
      expect(e.kind).toBe('so');
      expect(e.candidate).toMatchObject({ type: 'srflx', tcpType: 'so', address: '198.51.100.9' });
      expect(predictedKind(e.candidate)).toBe('sequential');
      expect(e.candidate.priority).toBeLessThan(srflx);
      expect(e.candidate.priority).toBeGreaterThan(relay);
      if (e.kind === 'so') expect(e.candidate.basePort).toBe(e.port.port);
    }
    expect(new Set(endpoints.map((e) => e.candidate.basePort)).size).toBe(4);
    // own foundations: a shared one would leave all but one pair frozen at the peer
    expect(new Set(endpoints.map((e) => e.candidate.foundation)).size).toBe(4);
  });

  it('never shadows a measured srflx port', async () => {
    const endpoints = await predict((n) => 30000 + n, [30004]);
    expect(endpoints.map((e) => e.candidate.port)).toEqual([30003, 30005, 30006]);
  });

  it('predicts nothing for a random or a port-preserving NAT', async () => {
    const random = [41234, 5077, 60001];
    expect(await predict((n) => random[n] ?? 1)).toEqual([]);
    expect(await predict((_n, clientPort) => clientPort)).toEqual([]);
  });
});
