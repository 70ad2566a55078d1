import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { expect } from 'vitest';
import { IceAgent, type IceAgentOptions, type IceConnection } from '../../src/index.js';
import { attachSignaller } from '../../src/signalling/attach.js';
import { createInMemorySignallerPair } from '../../src/signalling/in-memory.js';

/** Two agents wired through the in-memory signaller. */
export function agentPair(
  a: IceAgentOptions,
  b: IceAgentOptions,
): { alice: IceAgent; bob: IceAgent; close(): void } {
  const alice = new IceAgent(a);
  const bob = new IceAgent(b);
  const [sa, sb] = createInMemorySignallerPair();
  attachSignaller(alice, sa);
  attachSignaller(bob, sb);
  return {
    alice,
    bob,
    close() {
      alice.close();
      bob.close();
    },
  };
}

/** An agent on 127.0.0.1 that `cleanups` closes after the test. */
export function loopbackAgent(options: IceAgentOptions, cleanups: Array<() => void>): IceAgent {
  const agent = new IceAgent({ addresses: ['127.0.0.1'], ...options });
  cleanups.push(() => agent.close());
  return agent;
}

/**
 * Gathers both agents, exchanges their descriptions in one go (the SDP-line form) and connects both; `towardsB`
 * may alter `a`'s lines on their way to `b` (a signalling path that loses some).
 */
export async function connectViaDescriptions(
  a: IceAgent,
  b: IceAgent,
  towardsB: (lines: string[]) => string[] = (lines) => lines,
): Promise<[IceConnection, IceConnection]> {
  await Promise.all([a.gather(), b.gather()]);
  b.setRemoteDescription(towardsB(a.localDescription()));
  a.setRemoteDescription(b.localDescription());
  return Promise.all([a.connect(), b.connect()]);
}

/** Reads exactly `n` bytes from a stream and returns their SHA-256. */
export function sha256Of(stream: Duplex, n: number): Promise<string> {
  const hash = createHash('sha256');
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const take = Math.min(chunk.length, n - got);
      hash.update(take === chunk.length ? chunk : chunk.subarray(0, take));
      got += take;
      if (got >= n) {
        stream.off('data', onData);
        resolve(hash.digest('hex'));
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.once('end', () => {
      if (got < n) reject(new Error(`stream ended after ${got} of ${n} bytes`));
    });
  });
}

/** Writes `n` pseudo-random bytes (seeded) with backpressure; resolves with their SHA-256. */
export async function writeRandom(stream: Duplex, n: number, seed: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(256 * 1024);
  let x = seed >>> 0 || 1;
  let sent = 0;
  while (sent < n) {
    const size = Math.min(chunk.length, n - sent);
    for (let i = 0; i < size; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk.writeUInt32LE(x >>> 0, i);
    }
    const piece = Buffer.from(chunk.subarray(0, size));
    hash.update(piece);
    sent += size;
    if (!stream.write(piece)) await new Promise((r) => stream.once('drain', r));
  }
  return hash.digest('hex');
}

/** A 'ping' packet one way and a 'pong' back: the pair carries packets both ways. */
export async function roundTrip(a: IceConnection, b: IceConnection): Promise<void> {
  const got = new Promise<Buffer>((resolve) => b.once('packet', resolve));
  a.send(Buffer.from('ping'));
  expect((await got).toString()).toBe('ping');
  const back = new Promise<Buffer>((resolve) => a.once('packet', resolve));
  b.send(Buffer.from('pong'));
  expect((await back).toString()).toBe('pong');
}
