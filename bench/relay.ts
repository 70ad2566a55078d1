// Relay benchmark on loopback with a real coturn: time to connected through the TURN relay (both sides
// forceRelay, median of N) and relayed vs direct throughput in the same run. Prints one JSON object.
// usage: npm run bench:relay -- [--runs 10] [--mb 50]
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { IceAgent, type IceAgentOptions, type IceConnection } from '../src/index.js';
import { attachSignaller } from '../src/signalling/attach.js';
import { createInMemorySignallerPair } from '../src/signalling/in-memory.js';
import { startCoturn } from '../test/support/coturn.js';
import { median } from './support.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, mb: { type: 'string', default: '50' } },
});
const runs = Number(values.runs);
const megabytes = Number(values.mb);

/** Connects two agents through the in-memory signaller; ms from start to both connected. */
async function connectPair(
  a: IceAgentOptions,
  b: IceAgentOptions,
): Promise<{ ms: number; ca: IceConnection; cb: IceConnection; close(): void }> {
  const alice = new IceAgent(a);
  const bob = new IceAgent(b);
  const started = performance.now();
  const [sa, sb] = createInMemorySignallerPair();
  attachSignaller(alice, sa);
  attachSignaller(bob, sb);
  const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
  return {
    ms: performance.now() - started,
    ca,
    cb,
    close() {
      alice.close();
      bob.close();
    },
  };
}

/** One direction, `n` bytes, checked by SHA-256; MB/s (1e6 bytes). */
async function throughput(from: Duplex, to: Duplex, n: number): Promise<number> {
  const chunk = Buffer.alloc(65535, 7);
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let received = 0;
  const done = new Promise<void>((resolve) => {
    to.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
      if (received >= n) resolve();
    });
  });
  const started = performance.now();
  for (let off = 0; off < n; off += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, n - off));
    sent.update(piece);
    if (!from.write(piece)) await new Promise((r) => from.once('drain', r));
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  if (sent.digest('hex') !== got.digest('hex')) throw new Error('SHA-256 mismatch');
  return Math.round((n / seconds / 1e6) * 10) / 10;
}

const coturn = await startCoturn({ users: { alice: 'secret-a', bob: 'secret-b' } });
const turn = (username: string, password: string) => ({
  host: coturn.host,
  port: coturn.port,
  username,
  password,
});
const relayOptions = (user: 'alice' | 'bob'): IceAgentOptions => ({
  role: user === 'alice' ? 'controlling' : 'controlled',
  addresses: ['127.0.0.1'],
  forceRelay: true,
  turnServers: [turn(user, user === 'alice' ? 'secret-a' : 'secret-b')],
});
const directOptions = (role: 'controlling' | 'controlled'): IceAgentOptions => ({
  role,
  addresses: ['127.0.0.1'],
});

try {
  const relayMs: number[] = [];
  const directMs: number[] = [];
  let selected = '';
  for (let i = 0; i < runs; i++) {
    const r = await connectPair(relayOptions('alice'), relayOptions('bob'));
    relayMs.push(r.ms);
    selected = `${r.ca.localCandidate.type} ${r.ca.localCandidate.tcpType} -> ${r.ca.remoteCandidate.type} ${r.ca.remoteCandidate.tcpType}`;
    r.close();
    const d = await connectPair(directOptions('controlling'), directOptions('controlled'));
    directMs.push(d.ms);
    d.close();
  }
  const n = megabytes * 1e6;
  const relay = await connectPair(relayOptions('alice'), relayOptions('bob'));
  const relayMBps = await throughput(relay.ca.stream(), relay.cb.stream(), n);
  relay.close();
  const direct = await connectPair(directOptions('controlling'), directOptions('controlled'));
  const directMBps = await throughput(direct.ca.stream(), direct.cb.stream(), n);
  direct.close();
  const round = (x: number) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify(
      {
        node: process.version,
        turnServer: 'coturn 4.6.1 on 127.0.0.1 (TCP allocations, RFC 6062)',
        runs,
        timeToConnectedMs: {
          relayMedian: round(median(relayMs)),
          relayMin: round(Math.min(...relayMs)),
          relayMax: round(Math.max(...relayMs)),
          directMedian: round(median(directMs)),
          relayIncludesGathering: true,
        },
        relaySelectedPair: selected,
        throughputMBps: {
          bytes: n,
          oneDirection: true,
          relay: relayMBps,
          direct: directMBps,
          relayOverDirect: Math.round((relayMBps / directMBps) * 100) / 100,
        },
      },
      null,
      2,
    ),
  );
} finally {
  await coturn.stop();
}
