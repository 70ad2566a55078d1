import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { predictedKind } from '../../src/candidate/predicted.js';
import { candidatePriority } from '../../src/candidate/priority.js';
import { StunStreamSplitter } from '../../src/framing/index.js';
import type { LocalEndpoint } from '../../src/gather/index.js';
import { gatherSequentialPredicted } from '../../src/gather/predicted-sequential.js';
import { answerBinding } from '../../src/server/index.js';
import { SimultaneousOpenPort } from '../../src/transport/index.js';

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
    // one burst of five probes saw 20000 ... 20008: the window is the next four steps
    expect(endpoints.map((e) => e.candidate.port)).toEqual([20010, 20012, 20014, 20016]);
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
    const endpoints = await predict((n) => 30000 + n, [30006]);
    expect(endpoints.map((e) => e.candidate.port)).toEqual([30005, 30007, 30008]);
  });

  it('a stray flow between the probes does not hide the step, nor does a NAT counting down', async () => {
    // another host's connection took 20003 between our third and fourth probe
    const stray = [20000, 20001, 20002, 20004, 20005];
    const up = await predict((n) => stray[n] ?? 1);
    expect(up.map((e) => e.candidate.port)).toEqual([20006, 20007, 20008, 20009]);
    const down = await predict((n) => 40000 - 3 * n);
    expect(down.map((e) => e.candidate.port)).toEqual([39985, 39982, 39979, 39976]);
  });

  it('probes once more when the first burst shows no step, and predicts from the second', async () => {
    const first = [20000, 20050, 20007, 20100, 20003];
    const endpoints = await predict((n) => first[n] ?? 21000 + 2 * (n - 5));
    // the second burst saw 21000 ... 21008
    expect(endpoints.map((e) => e.candidate.port)).toEqual([21010, 21012, 21014, 21016]);
  });

  it('predicts nothing for a random or a port-preserving NAT', async () => {
    // both bursts random
    const random = [41234, 5077, 60001, 12000, 33333, 8000, 61000, 2000, 45000, 30001];
    expect(await predict((n) => random[n] ?? 1)).toEqual([]);
    expect(await predict((_n, clientPort) => clientPort)).toEqual([]);
  });
});

describe('port-range prediction', () => {
  /** Like predict(), with the address's S-O host port that range-predicted candidates live on. */
  async function predictRange(ports: readonly number[], measured: number[] = []) {
    const server = await natStunServer((n) => ports[n] ?? 1);
    const base = await SimultaneousOpenPort.open({ address: '127.0.0.1' });
    cleanups.push(() => base.close());
    const endpoints: LocalEndpoint[] = [];
    let id = 0;
    await gatherSequentialPredicted(
      {
        server: { host: '127.0.0.1', port: server },
        baseAddress: '127.0.0.1',
        otherPreference: 8191,
        measuredPorts: new Set(measured),
        timeoutMs: 2000,
        nextId: () => `R${++id}`,
        baseSo: base,
      },
      (e) => endpoints.push(e),
    );
    return { base, endpoints };
  }

  it("offers the burst's widened span as srflx so candidates on the one S-O port, each its own foundation", async () => {
    // the lab's range NAT (20000-20009): one port per flow at random
    const { base, endpoints } = await predictRange([20003, 20007, 20001, 20009, 20004], [20005]);
    // 20001-20009 seen, widened by 5 on each side, the measured srflx port left out
    const expected = Array.from({ length: 19 }, (_, i) => 19996 + i).filter((p) => p !== 20005);
    expect(endpoints.map((e) => e.candidate.port)).toEqual(expected);
    const srflx = candidatePriority({ type: 'srflx', tcpType: 'so', otherPreference: 8191 });
    const relay = candidatePriority({ type: 'relay', tcpType: 'so', otherPreference: 8191 });
    for (const e of endpoints) {
      expect(e.kind).toBe('so');
      if (e.kind === 'so') expect(e.port).toBe(base);
      expect(e.candidate).toMatchObject({
        type: 'srflx',
        tcpType: 'so',
        address: '198.51.100.9',
        basePort: base.port,
        relatedAddress: '127.0.0.1',
        relatedPort: base.port,
      });
      expect(predictedKind(e.candidate)).toBe('range');
      expect(e.candidate.priority).toBeLessThan(srflx);
      expect(e.candidate.priority).toBeGreaterThan(relay);
    }
    // the peer dials them all at once: a shared foundation would leave all but one frozen
    expect(new Set(endpoints.map((e) => e.candidate.foundation)).size).toBe(expected.length);
  });

  it('ranks the spanned ports above the widening, the nearer widening above the farther', async () => {
    // the peer checks them one per Ta in priority order, and the flow's port is likeliest inside the span
    const { endpoints } = await predictRange([20003, 20007, 20001, 20009, 20004]);
    const byPriority = [...endpoints]
      .sort((x, y) => y.candidate.priority - x.candidate.priority || x.candidate.port - y.candidate.port)
      .map((e) => e.candidate.port);
    expect(byPriority).toEqual([
      20001, 20002, 20003, 20004, 20005, 20006, 20007, 20008, 20009, 20000, 20010, 19999, 20011, 19998, 20012,
      19997, 20013, 19996, 20014,
    ]);
  });

  it('offers nothing for a random NAT, nor without the S-O port to offer them on', async () => {
    const random = [41234, 5077, 60001, 12000, 33333, 8000, 61000, 2000, 45000, 30001];
    expect((await predictRange(random)).endpoints).toEqual([]);
    const range = [20003, 20007, 20001, 20009, 20004];
    expect(await predict((n) => range[n] ?? 1)).toEqual([]);
  });
});
