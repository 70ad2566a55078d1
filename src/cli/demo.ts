import { IceAgent } from '../agent.js';
import type { Candidate } from '../candidate/types.js';
import { attachSignaller } from '../signalling/attach.js';
import { createInMemorySignallerPair } from '../signalling/in-memory.js';
import { type CliIo, writeLine } from './io.js';
import { transfer } from './transfer.js';

/** Options of `ice-tcp demo`. */
export interface DemoOptions {
  io: CliIo;
  json: boolean;
  bytes: number;
  addresses?: string[];
}

function describe(c: Candidate): string {
  return `${c.type}/${c.tcpType} ${c.address}:${c.port}`;
}

/**
 * Two agents in one process over the in-memory signaller: gather, check, nominate, then move `bytes` each way
 * over the nominated pair in stream mode. Prints each step with its time since the start.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const t0 = performance.now();
  const ms = () => Math.round((performance.now() - t0) * 10) / 10;
  const steps: Array<Record<string, unknown>> = [];
  const step = (name: string, detail: Record<string, unknown> = {}, text = '') => {
    const entry = { step: name, atMs: ms(), ...detail };
    steps.push(entry);
    if (!options.json)
      writeLine(
        options.io.stdout,
        `[${String(entry.atMs).padStart(7)} ms] ${name}${text ? `: ${text}` : ''}`,
      );
  };
  // Both agents live on this machine, so loopback is the one address family that always exists here.
  const common = { addresses: options.addresses ?? ['127.0.0.1'] };
  const alice = new IceAgent({ role: 'controlling', ...common });
  const bob = new IceAgent({ role: 'controlled', ...common });
  try {
    const [sa, sb] = createInMemorySignallerPair();
    attachSignaller(alice, sa);
    attachSignaller(bob, sb);
    for (const [name, agent] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      agent.once('state', (s) => {
        if (s === 'checking') step(`${name} first check`);
      });
    }
    const connecting = Promise.all([alice.connect(), bob.connect()]);
    await Promise.all([alice.gather(), bob.gather()]);
    const count = alice.localDescription().filter((l) => l.startsWith('a=candidate')).length;
    step('gathered', { candidates: count }, `${count} candidates each side`);
    const [ca, cb] = await connecting;
    step(
      'nominated',
      { local: ca.localCandidate, remote: ca.remoteCandidate },
      `${describe(ca.localCandidate)} -> ${describe(ca.remoteCandidate)}`,
    );
    const [ra, rb] = await Promise.all([
      transfer(ca.stream(), {
        sendBytes: options.bytes,
        expectBytes: options.bytes,
        echo: false,
        sha256: true,
      }),
      transfer(cb.stream(), {
        sendBytes: options.bytes,
        expectBytes: options.bytes,
        echo: false,
        sha256: true,
      }),
    ]);
    if (ra.sha256Received !== rb.sha256Received)
      throw new Error('the two directions carried different bytes');
    const seconds = Math.max(ra.seconds, rb.seconds);
    const mbps = (2 * options.bytes) / seconds / 1e6;
    step(
      'data exchanged',
      { bytesEachWay: options.bytes, seconds, megabytesPerSecond: Math.round(mbps * 10) / 10 },
      `${options.bytes} bytes each way in ${seconds.toFixed(3)} s (${mbps.toFixed(1)} MB/s both directions)`,
    );
    if (options.json) writeLine(options.io.stdout, JSON.stringify({ ok: true, steps }));
    return 0;
  } finally {
    alice.close();
    bob.close();
  }
}
