/** Mutated STUN messages into a live StunServer's TCP and UDP ports: no 'error', no crash, still answering. */
import dgram from 'node:dgram';
import net from 'node:net';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { StunServer } from '../../src/server/index.js';
import { StunClass, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { everyAttributeMessage } from '../stun/fuzz-fixtures.js';
import { bindingRequest, TcpClient, udpExchange } from './client.js';

let server: StunServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A small deterministic PRNG (mulberry32), so that a failure is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  bindingRequest(),
  bindingRequest((b) => b.username('a:b').priority(1).software('x')),
  new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build(),
  // the richest seed, turned into a Binding request so that it reaches the answering code
  (() => {
    const m = Buffer.from(everyAttributeMessage(Buffer.from('key')));
    m.writeUInt16BE(0x0001, 0);
    return m;
  })(),
];

/**
 * Flips bytes, rewrites attribute types and lengths or cuts the message, then (mostly) keeps the header's
 * length right and re-signs FINGERPRINT, so the mutant gets past framing into the decoder and the answer.
 */
function mutate(random: () => number): Buffer {
  const seed = SEEDS[Math.floor(random() * SEEDS.length)] as Buffer;
  let m = Buffer.from(seed);
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = 20 + Math.floor(random() * Math.max(1, m.length - 20));
    const kind = random();
    if (kind < 0.5 && at < m.length) m[at] = Math.floor(random() * 256);
    else if (kind < 0.7 && at + 1 < m.length) m.writeUInt16BE(Math.floor(random() * 65536), at);
    else if (kind < 0.85) m = m.subarray(0, Math.max(20, at));
    else m = Buffer.concat([m, Buffer.from(Array.from({ length: 1 + (at % 13) }, () => random() * 256))]);
  }
  if (random() < 0.9) m.writeUInt16BE(m.length - 20, 2);
  if (random() < 0.7 && m.length >= 28) {
    m.writeUInt16BE(0x8028, m.length - 8);
    m.writeUInt16BE(4, m.length - 6);
    m.writeUInt32BE((crc32(m.subarray(0, m.length - 8)) ^ 0x5354554e) >>> 0, m.length - 4);
  }
  return m;
}

describe('StunServer fed mutated messages', () => {
  it('survives 20,000 mutated datagrams and 400 mutated TCP connections, and keeps answering', async () => {
    server = await StunServer.start({ host: '127.0.0.1', software: 'fuzz' });
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const port = server.primary.port;
    const random = prng(0x5eed);

    const udp = dgram.createSocket('udp4');
    let answered = 0;
    udp.on('message', () => answered++);
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    for (let i = 0; i < 20_000; i++) {
      udp.send(mutate(random), port, '127.0.0.1');
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 200));
    udp.close();
    // the mutants reach the answering code, not only the decoder's rejections
    expect(answered).toBeGreaterThan(200);

    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from(
          { length: 40 },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
              s.on('error', () => {});
              s.on('data', () => {});
              s.once('connect', () => {
                s.write(Buffer.concat([mutate(random), mutate(random), mutate(random)]));
                setTimeout(() => s.destroy(), 20);
              });
              s.once('close', () => resolve());
            }),
        ),
      );
    }

    expect(errors).toEqual([]);
    const c = await TcpClient.connect(port);
    try {
      expect((await c.request(bindingRequest())).cls).toBe(StunClass.SuccessResponse);
    } finally {
      c.destroy();
    }
    const { answers } = await udpExchange(port, [bindingRequest()]);
    expect(answers[0]?.cls).toBe(StunClass.SuccessResponse);
  });
});
