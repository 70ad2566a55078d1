import net from 'node:net';
import { format } from 'node:util';
import createDebug from 'debug';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/index.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** Everything the library logs under `ice-tcp:*` while the test runs, one formatted line per call. */
function captureDebug(): string[] {
  const lines: string[] = [];
  const previousLog = createDebug.log;
  const previousNamespaces = createDebug.disable();
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  createDebug.enable('ice-tcp:*');
  cleanup.push(() => {
    createDebug.log = previousLog;
    createDebug.disable();
    if (previousNamespaces) createDebug.enable(previousNamespaces);
  });
  return lines;
}

/** A port that is closed (a dial to it is refused) and one that accepts and never answers. */
async function deadEnds(): Promise<{ refused: number; silent: number }> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const refused = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => {
    // the agent resets its timed-out dials: without a listener that ECONNRESET would be an uncaught error
    s.on('error', () => undefined);
    held.push(s);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    for (const s of held) s.destroy();
    silent.close();
  });
  return { refused, silent: (silent.address() as net.AddressInfo).port };
}

describe('DEBUG=ice-tcp:* tells why ICE failed', () => {
  it('logs every check, every pair state change, and one line per pair with its failure reason', async () => {
    const lines = captureDebug();
    const { refused, silent } = await deadEnds();
    const agent = new IceAgent({
      role: 'controlling',
      addresses: ['127.0.0.1'],
      tcpTypes: ['active', 'passive'],
      checkTimeoutMs: 400,
      // the dead ends are there from the start: no waiting for a peer that might get our candidates later
      peerWaitMs: 0,
    });
    cleanup.push(() => agent.close());
    const failed = agent.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    await agent.gather();
    agent.setRemoteParameters({ ufrag: 'peer', pwd: 'p'.repeat(22) });
    agent.addRemoteCandidate(`candidate:1 1 TCP 2128609279 127.0.0.1 ${refused} typ host tcptype passive`);
    agent.addRemoteCandidate(`candidate:2 1 TCP 2128609278 127.0.0.1 ${silent} typ host tcptype passive`);
    agent.addRemoteCandidate('candidate:3 1 TCP 2128609277 127.0.0.1 9 typ host tcptype active');
    agent.addRemoteCandidate(null);
    expect(await failed).toMatchObject({ code: 'ERR_ICE_FAILED' });

    const pairs = agent.getStats().pairs;
    expect(pairs).toHaveLength(3);
    const summaryAt = lines.findIndex((l) => l.includes('ICE failed: '));
    expect(summaryAt).toBeGreaterThanOrEqual(0);
    const summary = lines.slice(summaryAt + 1);
    const lineOf = (port: number) => {
      const pair = pairs.find((p) => p.remote.port === port);
      expect(pair).toBeDefined();
      const line = summary.find((l) => l.includes(`pair ${pair?.id} `));
      expect(line, `summary line of the pair to port ${port}`).toBeDefined();
      return line ?? '';
    };
    expect(lineOf(refused)).toMatch(/failed, .*ECONNREFUSED/);
    expect(lineOf(silent)).toMatch(/failed, timeout/);
    expect(lineOf(9)).toMatch(/the peer never connected to our passive candidate/);

    // the road there: checks sent and the state changes with their reasons
    expect(lines.some((l) => /ordinary check #1$/.test(l))).toBe(true);
    expect(lines.some((l) => /-> in-progress \(check sent\)/.test(l))).toBe(true);
    expect(lines.some((l) => /in-progress -> failed \(timeout\)/.test(l))).toBe(true);
  });
});
