import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError, type IceTcpError, InvalidArgumentError } from '../../src/errors.js';
import { encodeFrame } from '../../src/framing/index.js';
import { FramedConnection } from '../../src/transport/index.js';
import { kernelSockets, nextEvent, socketPair } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function framedPair(maxFrameSize?: number) {
  const pair = await socketPair();
  cleanups.push(() => pair.close());
  return {
    ...pair,
    a: new FramedConnection(pair.client, { maxFrameSize }),
    b: new FramedConnection(pair.server, { maxFrameSize }),
  };
}

function collectFrames(connection: FramedConnection, count: number): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  return new Promise((resolve) => {
    connection.on('frame', (frame) => {
      frames.push(Buffer.from(frame));
      if (frames.length === count) resolve(frames);
    });
  });
}

describe('FramedConnection', () => {
  it('carries frames both ways and reports the 4-tuple', async () => {
    const { a, b } = await framedPair();
    expect(a.localPort).toBe(b.remotePort);
    expect(a.remotePort).toBe(b.localPort);
    expect(a.remoteAddress).toBe('127.0.0.1');
    const atB = collectFrames(b, 3);
    const atA = collectFrames(a, 2);
    const big = Buffer.alloc(60_000, 7);
    a.sendFrame(Buffer.from('one'));
    a.sendFrame(Buffer.alloc(0));
    a.sendFrame(big);
    b.sendFrame(Buffer.from('back'));
    b.sendFrame(Buffer.from('again'));
    const [fromA, fromB] = await Promise.all([atB, atA]);
    expect(fromA.map((f) => f.length)).toEqual([3, 0, 60_000]);
    expect(fromA[0]?.toString()).toBe('one');
    expect(fromA[2]?.equals(big)).toBe(true);
    expect(fromB.map((f) => f.toString())).toEqual(['back', 'again']);
  });

  it('splits many frames from one chunk and joins a frame cut into single bytes', async () => {
    const { client, b } = await framedPair();
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(`frame ${i}`));
    const received = collectFrames(b, 201);
    client.write(Buffer.concat(payloads.map(encodeFrame)));
    const last = encodeFrame(Buffer.from('byte by byte'));
    for (const byte of last) client.write(Buffer.of(byte));
    const frames = await received;
    expect(frames.slice(0, 200).map((f) => f.toString())).toEqual(payloads.map((p) => p.toString()));
    expect(frames[200]?.toString()).toBe('byte by byte');
  });

  it('pause() holds back frames already received until resume()', async () => {
    const { client, b } = await framedPair();
    let count = 0;
    const allTen = new Promise<void>((resolve) => {
      b.on('frame', () => {
        count++;
        if (count === 1) b.pause();
        if (count === 10) resolve();
      });
    });
    client.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => encodeFrame(Buffer.from(`f${i}`)))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(count).toBe(1);
    b.resume();
    await allTen;
    expect(count).toBe(10);
  });

  it('discardInput(): the rest of the read and everything later is dropped unread, our writes still go out', async () => {
    const { client, a, b } = await framedPair();
    const seen: string[] = [];
    b.on('frame', (frame) => {
      seen.push(frame.toString());
      b.discardInput();
      b.sendFrame(Buffer.from('answer'));
    });
    const answer = collectFrames(a, 1);
    client.write(Buffer.concat(['first', 'second', 'third'].map((text) => encodeFrame(Buffer.from(text)))));
    expect((await answer).map((f) => f.toString())).toEqual(['answer']);
    client.write(encodeFrame(Buffer.from('later')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual(['first']);
    expect(b.closed).toBe(false);
  });

  it('reset() from a frame listener stops the read there: no frame after it is delivered', async () => {
    const { client, b } = await framedPair();
    const seen: string[] = [];
    b.on('frame', (frame) => {
      seen.push(frame.toString());
      b.reset();
    });
    const closed = nextEvent(b, 'close');
    client.on('error', () => {});
    client.write(Buffer.concat(['first', 'second'].map((text) => encodeFrame(Buffer.from(text)))));
    await closed;
    expect(seen).toEqual(['first']);
  });

  it('sendFrame() returns false under backpressure and drain follows once the peer reads', async () => {
    const { a, b } = await framedPair();
    b.pause();
    const payload = Buffer.alloc(65_535, 1);
    let sent = 0;
    while (a.sendFrame(payload)) {
      sent++;
      if (sent > 100_000) throw new Error('sendFrame never reported backpressure');
    }
    sent++;
    const drained = nextEvent(a, 'drain');
    const all = collectFrames(b, sent);
    b.resume();
    await drained;
    expect((await all).length).toBe(sent);
  });

  it('an oversized frame from the peer emits ERR_FRAME_TOO_LARGE and resets the connection', async () => {
    const { client, b } = await framedPair(100);
    const errors: IceTcpError[] = [];
    b.on('error', (error) => errors.push(error));
    const closed = nextEvent<[boolean]>(b, 'close');
    const peerError = nextEvent<[NodeJS.ErrnoException]>(client, 'error');
    client.write(encodeFrame(Buffer.alloc(101)));
    expect((await peerError)[0].code).toBe('ECONNRESET');
    expect(await closed).toEqual([true]);
    expect(errors.map((e) => e.code)).toEqual(['ERR_FRAME_TOO_LARGE']);
    expect(b.closed).toBe(true);
  });

  it('a stream ending inside a frame emits ERR_FRAME_TRUNCATED', async () => {
    const { client, b } = await framedPair();
    const error = nextEvent<[IceTcpError]>(b, 'error');
    client.end(encodeFrame(Buffer.from('cut short')).subarray(0, 5));
    expect((await error)[0].code).toBe('ERR_FRAME_TRUNCATED');
  });

  it('close() sends FIN after pending frames: the peer reads them, then sees end', async () => {
    const { a, server } = await framedPair();
    const chunks: Buffer[] = [];
    server.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = nextEvent(server, 'end');
    a.sendFrame(Buffer.from('last words'));
    a.close();
    expect(a.closed).toBe(true);
    expect(() => a.sendFrame(Buffer.from('more'))).toThrow(ClosedError);
    await ended;
    expect(Buffer.concat(chunks).equals(encodeFrame(Buffer.from('last words')))).toBe(true);
    await nextEvent(a, 'close');
  });

  it("by default the peer's FIN ends our side too, after the frames already written", async () => {
    const { b, client } = await framedPair();
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    const peerSawEnd = nextEvent(client, 'end');
    const closed = nextEvent(b, 'close');
    b.sendFrame(Buffer.from('reply'));
    client.end();
    await Promise.all([peerSawEnd, closed]);
    expect(Buffer.concat(chunks).equals(encodeFrame(Buffer.from('reply')))).toBe(true);
  });

  it("allowHalfOpen(): the peer's FIN is an end event, we keep sending, close follows our end()", async () => {
    const { b, client } = await framedPair();
    b.allowHalfOpen();
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const ended = nextEvent(b, 'end');
    client.end();
    await ended;
    expect(b.closed).toBe(false);
    const payload = Buffer.alloc(60_000, 3);
    for (let i = 0; i < 20; i++) b.sendFrame(payload);
    const closed = nextEvent<[boolean]>(b, 'close');
    b.end();
    expect(await closed).toEqual([false]);
    await nextEvent(client, 'end');
    expect(received).toBe(20 * (payload.length + 2));
  });

  it('reset() sends RST: the peer sees ECONNRESET', async () => {
    const { a, server } = await framedPair();
    const peerError = nextEvent<[NodeJS.ErrnoException]>(server, 'error');
    const closed = nextEvent<[boolean]>(a, 'close');
    a.reset();
    expect((await peerError)[0].code).toBe('ECONNRESET');
    await closed;
    expect(a.closed).toBe(true);
    const leftovers = (await kernelSockets()).filter(
      (s) => s.localPort === a.localPort && s.remotePort === a.remotePort,
    );
    expect(leftovers).toEqual([]);
  });

  it('close() leaves TIME_WAIT on the closing side, as a graceful close must', async () => {
    const { a, b } = await framedPair();
    const bothClosed = Promise.all([nextEvent(a, 'close'), nextEvent(b, 'close')]);
    a.close();
    await bothClosed;
    const states = (await kernelSockets())
      .filter((s) => s.localPort === a.localPort && s.remotePort === a.remotePort)
      .map((s) => s.state);
    expect(states).toEqual(['TIME_WAIT']);
  });

  it('reports a peer reset as an ERR_SOCKET error', async () => {
    const { server, a } = await framedPair();
    const error = nextEvent<[IceTcpError & { syscallCode?: string }]>(a, 'error');
    server.resetAndDestroy();
    const [reported] = await error;
    expect(reported.code).toBe('ERR_SOCKET');
    expect(reported.syscallCode).toBe('ECONNRESET');
  });

  it('rejects payloads RFC 4571 cannot frame and bad limits', async () => {
    const { a, client } = await framedPair();
    expect(() => a.sendFrame(Buffer.alloc(65_536))).toThrow(InvalidArgumentError);
    expect(() => new FramedConnection(client, { maxFrameSize: 70_000 })).toThrow(InvalidArgumentError);
  });
});
