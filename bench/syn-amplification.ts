/**
 * SYN amplification (issue 8 item 13): an agent given 100 `srflx so` remote candidates at closed loopback ports
 * (a third party that answers RST) — how many SYNs (connect calls) it sends while its checks run.
 * `tsx bench/syn-amplification.ts [candidates] [seconds] [runs]`; prints one JSON line (median over runs).
 */
import net from 'node:net';
import { IceAgent } from '../src/index.js';
import { median } from './support.js';

const CANDIDATES = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 2.5);
const RUNS = Number(process.argv[4] ?? 3);

let connects = 0;
const original = net.connect;
(net as { connect: typeof net.connect }).connect = ((...args: Parameters<typeof net.connect>) => {
  connects++;
  return original(...args);
}) as typeof net.connect;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function run(): Promise<number> {
  const ports = new Set<number>();
  while (ports.size < CANDIDATES) ports.add(await closedPort());
  const agent = new IceAgent({
    addresses: ['127.0.0.1'],
    tcpTypes: ['so'],
    role: 'controlling',
    checkTimeoutMs: SECONDS * 1000,
    connectTimeoutMs: SECONDS * 1000 + 1000,
    maxPairs: CANDIDATES,
    maxRemoteCandidates: CANDIDATES,
  });
  agent.on('error', () => {});
  await agent.gather();
  agent.setRemoteParameters({ ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' });
  const before = connects;
  let i = 0;
  for (const port of ports) {
    i++;
    agent.addRemoteCandidate(
      `candidate:${i} 1 TCP 1694498815 127.0.0.1 ${port} typ srflx raddr 10.0.0.1 rport ${port} tcptype so`,
    );
  }
  agent.addRemoteCandidate(null);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const sent = connects - before;
  agent.close();
  return sent;
}

const counts: number[] = [];
for (let r = 0; r < RUNS; r++) counts.push(await run());
console.log(
  JSON.stringify({ candidates: CANDIDATES, seconds: SECONDS, synsMedian: median(counts), runs: counts }),
);
