import { createHash, randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { encodeFrame, FrameParser, FrameType, MAX_DATA, type MuxFrame } from '../../src/tunnel/frames.js';
import { Mux } from '../../src/tunnel/mux.js';
import { INITIAL_WINDOW, type MuxStream } from '../../src/tunnel/mux-stream.js';

/** Two connected in-memory byte streams, like the two ends of the ICE stream; `wire` sees every byte. */
function connectionPair(wire: { bytes: number } = { bytes: 0 }): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      allowHalfOpen: true,
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        wire.bytes += chunk.length;
        // a later tick, as a socket delivers: frames never arrive inside the sender's write()
        setImmediate(() => {
          other().push(chunk);
          callback();
        });
      },
      final(callback) {
        setImmediate(() => {
          other().push(null);
          callback();
        });
      },
    });
  ends.push(
    make(() => ends[1] as Duplex),
    make(() => ends[0] as Duplex),
  );
  return [ends[0] as Duplex, ends[1] as Duplex];
}

function muxPair(
  wire?: { bytes: number },
  options: Omit<ConstructorParameters<typeof Mux>[1], 'initiator'> = {},
): {
  client: Mux;
  server: Mux;
  accepted: MuxStream[];
  a: Duplex;
  b: Duplex;
} {
  const [a, b] = connectionPair(wire);
  const client = new Mux(a, { ...options, initiator: true });
  const server = new Mux(b, { ...options, initiator: false });
  const accepted: MuxStream[] = [];
  server.on('stream', (s) => accepted.push(s));
  return { client, server, accepted, a, b };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const nextStream = (mux: Mux) => new Promise<MuxStream>((resolve) => mux.once('stream', resolve));
function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
/** Opens a stream on `client` and ends it with `bytes` random bytes; resolves with the server's side of it. */
async function sendOne(client: Mux, accepted: MuxStream[], bytes: number) {
  const before = accepted.length;
  const payload = randomBytes(bytes);
  client.open().end(payload);
  await vi.waitFor(() => expect(accepted.length).toBeGreaterThan(before));
  return { peer: accepted[before] as MuxStream, payload };
}

describe('tunnel frames', () => {
  it('parse whole frames from any split of the bytes', () => {
    const bytes = Buffer.concat([
      encodeFrame(FrameType.Open, 1),
      encodeFrame(FrameType.Data, 1, Buffer.from('hello')),
      encodeFrame(FrameType.Fin, 1),
    ]);
    const parser = new FrameParser();
    const frames = [...bytes].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(frames.map((f) => [f.type, f.id, f.payload.toString()])).toEqual([
      [FrameType.Open, 1, ''],
      [FrameType.Data, 1, 'hello'],
      [FrameType.Fin, 1, ''],
    ]);
  });

  it('hand out a frame inside one chunk as a view of it, and copy a frame split across chunks once', () => {
    const a = encodeFrame(FrameType.Data, 1, Buffer.alloc(20_000, 1));
    const b = encodeFrame(FrameType.Data, 3, Buffer.alloc(30_000, 2));
    const bytes = Buffer.concat([a, b, encodeFrame(FrameType.Fin, 1)]);
    const cut = [a.length + 5, a.length + 100, a.length + 20_000];
    const chunks = [0, ...cut].map((from, i) => bytes.subarray(from, cut[i] ?? bytes.length));
    const parser = new FrameParser();
    const [first, second, third, fourth] = chunks.map((c) => parser.push(c));
    expect(first?.map((f) => f.id)).toEqual([1]);
    expect(first?.[0]?.payload.buffer).toBe(bytes.buffer); // a view, no copy
    expect([second, third]).toEqual([[], []]);
    const split = fourth?.[0] as MuxFrame;
    expect([split.id, split.payload.length, split.payload[29_999]]).toEqual([3, 30_000, 2]);
    expect(split.payload.buffer).not.toBe(bytes.buffer);
    expect(split.payload.buffer.byteLength).toBe(b.length); // assembled once, at its own size
    expect(fourth?.[1]).toMatchObject({ type: FrameType.Fin, id: 1 });
  });

  it('refuse a bad header before its payload is buffered', () => {
    const parser = new FrameParser();
    const huge = Buffer.alloc(9);
    huge.writeUInt8(FrameType.Data, 0);
    huge.writeUInt32BE(1, 1);
    huge.writeUInt32BE(MAX_DATA + 1, 5);
    expect(() => parser.push(huge)).toThrow(expect.objectContaining({ code: 'ERR_TUNNEL' }));
    expect(() => new FrameParser().push(Buffer.from([9, 0, 0, 0, 1, 0, 0, 0, 0]))).toThrow(/bad frame/);
    expect(() => new FrameParser().push(encodeFrame(FrameType.Fin, 0))).toThrow(/stream id 0/);
  });
});

describe('Mux', () => {
  it('opens a stream, carries bytes both ways and half-closes each direction on its own', async () => {
    const { client, server } = muxPair();
    const accepting = nextStream(server);
    const s = client.open();
    s.end('request');
    const peer = await accepting;
    // the client's direction ended; the server still answers after it
    expect((await readAll(peer)).toString()).toBe('request');
    const answer = readAll(s);
    peer.end('response after the request ended');
    expect((await answer).toString()).toBe('response after the request ended');
    await tick();
    expect(s.destroyed && peer.destroyed).toBe(true);
    expect(client.size + server.size).toBe(0);
  });

  it('a reset stream fails on the other side with ERR_TUNNEL and leaves the others alone', async () => {
    const { client, server, accepted } = muxPair();
    const doomed = client.open();
    const other = client.open();
    doomed.write('x');
    other.write('y');
    await tick();
    const [peerDoomed, peerOther] = accepted as [MuxStream, MuxStream];
    const failed = new Promise<Error>((resolve) => peerDoomed.on('error', resolve));
    doomed.destroy();
    expect(await failed).toMatchObject({
      code: 'ERR_TUNNEL',
      message: expect.stringMatching(/reset by the peer/),
    });
    const rest = readAll(peerOther);
    other.end('z');
    expect((await rest).toString()).toBe('yz');
    expect(server.size).toBe(1); // peerOther: its reply direction is still open
  });

  it('a stalled reader holds at most the window, and another stream keeps moving meanwhile', async () => {
    const wire = { bytes: 0 };
    const { client, accepted } = muxPair(wire);
    const stalled = client.open();
    let stalledWritten = 0;
    const big = Buffer.alloc(4 * INITIAL_WINDOW);
    stalled.write(big, () => {
      stalledWritten = big.length;
    });
    await vi.waitFor(() => expect(accepted[0]?.readableLength).toBe(INITIAL_WINDOW));
    await tick(100);
    const [peerStalled] = accepted as [MuxStream];
    expect(peerStalled.readableLength).toBe(INITIAL_WINDOW); // never read: the sender stopped at the window
    expect(stalledWritten).toBe(0);

    const { peer: peerMoving, payload } = await sendOne(client, accepted, 8 * 1024 * 1024);
    expect(sha(await readAll(peerMoving))).toBe(sha(payload));
    expect(peerStalled.readableLength).toBe(INITIAL_WINDOW);

    // the reader wakes up: credit flows back and the rest arrives
    const rest = readAll(peerStalled);
    stalled.end();
    expect((await rest).length).toBe(big.length);
    expect(stalledWritten).toBe(big.length);
  });

  it('a DATA payload that is most of its chunk reaches the reader as it is; a small one is copied', async () => {
    const [a, b] = connectionPair();
    const server = new Mux(b, { initiator: false });
    const accepted = nextStream(server);
    a.write(encodeFrame(FrameType.Open, 1));
    const big = encodeFrame(FrameType.Data, 1, Buffer.alloc(60_000, 7));
    const smalls = encodeFrame(FrameType.Data, 1, Buffer.from('hi'));
    a.write(big);
    a.write(smalls);
    const stream = await accepted;
    const got: Buffer[] = [];
    stream.on('data', (c: Buffer) => got.push(c));
    await vi.waitFor(() => expect(got).toHaveLength(2));
    expect(got[0]?.buffer).toBe(big.buffer);
    // a copy (a 2-byte view would have kept its chunk's memory alive): the chunk's memory is not what it reads
    smalls.fill(0);
    expect(got[1]?.toString()).toBe('hi');
  });

  it('a peer that sends beyond the window gets its stream reset', async () => {
    const [a, b] = connectionPair();
    const server = new Mux(b, { initiator: false });
    const accepted = nextStream(server);
    a.write(encodeFrame(FrameType.Open, 1));
    const chunk = Buffer.alloc(MAX_DATA);
    for (let sent = 0; sent <= INITIAL_WINDOW; sent += chunk.length)
      a.write(encodeFrame(FrameType.Data, 1, chunk));
    const stream = await accepted;
    const failed = new Promise<Error>((resolve) => stream.on('error', resolve));
    expect(await failed).toMatchObject({
      code: 'ERR_TUNNEL',
      message: expect.stringMatching(/beyond its window/),
    });
    const replies = new FrameParser().push(Buffer.concat(await collect(a)));
    expect(replies.some((f) => f.type === FrameType.Rst && f.id === 1)).toBe(true);
  });

  it('a protocol error destroys the connection; streams still open fail with ERR_TUNNEL', async () => {
    for (const bad of [
      encodeFrame(FrameType.Open, 3), // an OPEN with the other side's parity
      Buffer.from([42, 0, 0, 0, 1, 0, 0, 0, 0]), // an unknown frame type
    ]) {
      const { client, b, a } = muxPair();
      const s = client.open();
      s.write('data');
      const errors: Error[] = [];
      client.on('error', (e) => errors.push(e));
      const failed = new Promise<Error>((resolve) => s.on('error', resolve));
      b.write(bad);
      expect(await failed).toMatchObject({ code: 'ERR_TUNNEL' });
      expect(errors[0]).toMatchObject({
        code: 'ERR_TUNNEL',
        message: expect.stringMatching(/bad (OPEN|frame)/),
      });
      expect(a.destroyed).toBe(true);
      expect(() => client.open()).toThrow(expect.objectContaining({ code: 'ERR_TUNNEL' }));
    }
  });

  it('beyond maxStreams an OPEN is answered with RST', async () => {
    const [a, b] = connectionPair();
    const client = new Mux(a, { initiator: true });
    const server = new Mux(b, { initiator: false, maxStreams: 2 });
    server.on('stream', () => {});
    const streams = [client.open(), client.open(), client.open()];
    const third = new Promise<Error>((resolve) => streams[2]?.on('error', resolve));
    expect(await third).toMatchObject({ code: 'ERR_TUNNEL' });
    expect(server.size).toBe(2);
  });

  it('100 parallel streams, each an echo of its own bytes', async () => {
    const { client, server } = muxPair();
    server.on('stream', (s) => s.pipe(s));
    const results = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const s = client.open();
        const payload = randomBytes(100_000 + Math.floor(Math.random() * 300_000));
        const echoed = readAll(s);
        s.end(payload);
        return sha(await echoed) === sha(payload);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
    await tick();
    expect(client.size + server.size).toBe(0);
  });
});

/** Everything `end` received until now. */
async function collect(end: Duplex): Promise<Buffer[]> {
  await tick(50);
  const out: Buffer[] = [];
  for (let c = end.read() as Buffer | null; c !== null; c = end.read() as Buffer | null) out.push(c);
  return out;
}

describe('Mux receive windows (auto-tuning)', () => {
  /** A clock that only moves when the test moves it. */
  const fakeClock = () => {
    const clock = { t: 0, now: () => clock.t };
    return clock;
  };

  it('a stream read as fast as it arrives doubles its window up to maxStreamWindow', async () => {
    const clock = fakeClock(); // no time passes: every grant comes within a round trip of the last
    const { client, accepted } = muxPair(undefined, {
      rttMs: () => 20,
      now: clock.now,
      maxStreamWindow: 4 * 1024 * 1024,
    });
    const { peer, payload } = await sendOne(client, accepted, 16 * 1024 * 1024);
    expect(peer.receiveWindow).toBe(INITIAL_WINDOW);
    expect(sha(await readAll(peer))).toBe(sha(payload));
    expect(peer.receiveWindow).toBe(4 * 1024 * 1024);
  });

  it('a reader slower than a quarter window per round trip keeps the initial window', async () => {
    const clock = fakeClock();
    const { client, accepted } = muxPair(undefined, { rttMs: () => 5, now: clock.now });
    const stream = client.open();
    const payload = randomBytes(2 * 1024 * 1024);
    stream.end(payload);
    await vi.waitFor(() => expect(accepted[0]?.readableLength).toBe(INITIAL_WINDOW));
    const peer = accepted[0] as MuxStream;
    const got: Buffer[] = [];
    let most = 0;
    let ended = false;
    peer.once('end', () => {
      ended = true;
    });
    while (!ended) {
      most = Math.max(most, peer.readableLength);
      clock.t += 12; // 64 KiB per 12 ms: each grant more than a 5 ms round trip after the last
      const n = Math.min(64 * 1024, peer.readableLength);
      const chunk = n > 0 ? (peer.read(n) as Buffer | null) : null;
      if (chunk) got.push(chunk);
      else {
        peer.read(0); // at the end of the data this is what emits 'end'
        await tick(2);
      }
    }
    expect(sha(Buffer.concat(got))).toBe(sha(payload));
    expect(peer.receiveWindow).toBe(INITIAL_WINDOW);
    expect(most).toBeLessThanOrEqual(INITIAL_WINDOW);
  });

  it('growth stays within the mux budget, and a stream that ends gives its share back', async () => {
    const clock = fakeClock();
    const budget = 1024 * 1024;
    const { client, accepted } = muxPair(undefined, {
      rttMs: () => 20,
      now: clock.now,
      maxStreamWindow: 4 * 1024 * 1024,
      windowBudget: budget,
    });
    const payloads = [randomBytes(8 * 1024 * 1024), randomBytes(8 * 1024 * 1024)];
    for (const p of payloads) client.open().end(p);
    await vi.waitFor(() => expect(accepted).toHaveLength(2));
    const peers = accepted.slice(0, 2);
    const reads = peers.map((p) => readAll(p));
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(
        most,
        peers.reduce((sum, p) => sum + p.receiveWindow - INITIAL_WINDOW, 0),
      );
    }, 1);
    const got = await Promise.all(reads);
    clearInterval(watch);
    expect(got.map(sha)).toEqual(payloads.map(sha));
    const grown = peers.reduce((sum, p) => sum + p.receiveWindow - INITIAL_WINDOW, 0);
    expect(grown).toBe(budget);
    expect(most).toBeLessThanOrEqual(budget);
    // both streams end in both directions: their growth goes back, and a new stream may take all of it
    for (const p of peers) p.end();
    await tick(50);
    const { peer, payload } = await sendOne(client, accepted, 8 * 1024 * 1024);
    expect(sha(await readAll(peer))).toBe(sha(payload));
    expect(peer.receiveWindow).toBe(INITIAL_WINDOW + budget);
  });

  it('rejects a window below the initial one or a negative budget with ERR_INVALID_ARGUMENT', () => {
    const [a] = connectionPair();
    for (const options of [{ maxStreamWindow: 1000 }, { maxStreamWindow: 2 ** 40 }, { windowBudget: -1 }]) {
      expect(() => new Mux(a, { initiator: true, ...options })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
