import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StunStreamSplitter } from '../../src/framing/index.js';
import { type Candidate, IceAgent } from '../../src/index.js';
import { answerBinding } from '../../src/server/index.js';
import { stalledPort } from '../transport/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A TCP "STUN server" on loopback whose answer to each request is `respond(request, source)`. */
async function fakeStunServer(respond: (request: Buffer, socket: net.Socket) => Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const splitter = new StunStreamSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const request of splitter.push(chunk)) socket.write(respond(request, socket));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** A proper answer, but as if the client sat behind a NAT (so a correct one would give an srflx candidate). */
function natAnswer(request: Buffer): Buffer {
  const outcome = answerBinding(request, { source: { family: 4, address: '198.51.100.9', port: 40000 } });
  if (outcome.kind !== 'reply') throw new Error(`unexpected ${outcome.kind}`);
  return outcome.response;
}

/** Gathers with one STUN server and returns the candidates, the errors and the time taken. */
async function gatherWith(port: number, gatherTimeoutMs = 500) {
  const agent = new IceAgent({
    addresses: ['127.0.0.1'],
    stunServers: [{ host: '127.0.0.1', port }],
    gatherTimeoutMs,
  });
  cleanups.push(() => agent.close());
  const candidates: Candidate[] = [];
  const errors: Error[] = [];
  agent.on('candidate', (c) => {
    if (c) candidates.push(c);
  });
  agent.on('error', (e) => errors.push(e));
  const started = performance.now();
  await agent.gather();
  return { candidates, errors, ms: performance.now() - started };
}

describe('gathering against a broken STUN server', () => {
  it('the fake server, answering correctly, yields an srflx candidate (control)', async () => {
    const { candidates } = await gatherWith(await fakeStunServer(natAnswer));
    expect(candidates.some((c) => c.type === 'srflx' && c.address === '198.51.100.9')).toBe(true);
  });

  it('garbage answers: no srflx candidate, an error event, host candidates intact', async () => {
    const port = await fakeStunServer(() => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const { candidates, errors } = await gatherWith(port);
    expect(candidates.filter((c) => c.type === 'srflx')).toEqual([]);
    expect(candidates.filter((c) => c.type === 'host').length).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('an answer with the wrong transaction id: no srflx candidate, gathering still completes', async () => {
    const port = await fakeStunServer((request) => {
      const answer = Buffer.from(natAnswer(request));
      answer[8] = (answer[8] ?? 0) ^ 0xff;
      return answer;
    });
    const { candidates, errors, ms } = await gatherWith(port);
    expect(candidates.filter((c) => c.type === 'srflx')).toEqual([]);
    expect(candidates.some((c) => c.type === 'host')).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(500 + 2000);
  });

  it('an unreachable server (SYNs dropped): gathering ends within the gather timeout, host candidates kept', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const { candidates, errors, ms } = await gatherWith(stalled.port, 400);
    // generous: other suites share the two cores
    expect(ms).toBeLessThan(400 + 2000);
    expect(candidates.filter((c) => c.type === 'srflx')).toEqual([]);
    expect(new Set(candidates.map((c) => c.tcpType))).toEqual(new Set(['active', 'passive', 'so']));
    expect(errors.length).toBeGreaterThan(0);
    console.info(`unreachable STUN server: gathering took ${Math.round(ms)} ms (timeout 400 ms)`);
  });
});
