import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RendezvousError } from '../../src/errors.js';
import type { RendezvousOptions } from '../../src/rendezvous/options.js';
import { RendezvousServer } from '../../src/rendezvous/server.js';
import type { SignalMessage } from '../../src/signalling/messages.js';
import { WebSocketSignaller } from '../../src/signalling/websocket.js';
import { byLength, connectPair, GREETED, greetEachOther } from './helpers.js';

let cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function serve(options: RendezvousOptions = {}): Promise<RendezvousServer> {
  const server = await RendezvousServer.start(options);
  cleanups.push(() => server.close());
  return server;
}

async function join(url: string, token?: string): Promise<WebSocketSignaller> {
  const s = await WebSocketSignaller.connect(url, token === undefined ? {} : { token });
  cleanups.push(() => s.close());
  return s;
}

async function refusal(promise: Promise<unknown>): Promise<RendezvousError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RendezvousError);
  return err as RendezvousError;
}

function closeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

async function raw(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: 'Bearer s3cret' } });
  cleanups.push(() => ws.terminate());
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

describe('rendezvous server and WebSocketSignaller', () => {
  it('two agents connect through a room, the second joining after the first sent everything', async () => {
    const server = await serve({ token: 's3cret' });
    const a = await join(server.url('demo-room'), 's3cret');
    const cleanupsLocal: Array<() => void> = [];
    cleanups.push(() => {
      for (const c of cleanupsLocal) c();
    });
    // a's messages are queued until b is in the room: the server keeps nothing
    const joined = new Promise<void>((resolve) => a.once('peer-joined', () => resolve()));
    const b = await join(server.url('demo-room'), 's3cret');
    await Promise.all([connectPair(a, b, cleanupsLocal), joined]);
  });

  it('in a room of three, one leaving does not stop the signaller sending to the one still there', async () => {
    const server = await serve({ maxPeersPerRoom: 3 });
    const a = await join(server.url('trio'));
    const joins = new Promise<void>((resolve) => {
      let n = 0;
      a.on('peer-joined', () => ++n === 2 && resolve());
    });
    const b = await join(server.url('trio'));
    const c = await join(server.url('trio'));
    await joins;
    const left = new Promise<void>((resolve) => a.once('peer-left', () => resolve()));
    c.close();
    await left;
    const got = new Promise<SignalMessage>((resolve) => b.onMessage(resolve));
    await a.send({ type: 'end-of-candidates' });
    expect(await got).toEqual({ type: 'end-of-candidates' });
  });

  it('pairs joining at once, many rooms: each member learns of its peer once and gets all its messages', async () => {
    const server = await serve();
    const rooms = Array.from({ length: 20 }, (_, i) => server.url(`burst-${i}`));
    const pairs = await Promise.all(rooms.map((url) => greetEachOther(url, url, cleanups)));
    for (const pair of pairs) expect(byLength(pair)).toEqual(GREETED);
  });

  it('refuses a wrong or missing token with 401, before any WebSocket is opened', async () => {
    const server = await serve({ token: 's3cret' });
    expect((await refusal(WebSocketSignaller.connect(server.url('r'), { token: 'wrong' }))).reason).toBe(
      'unauthorized',
    );
    const err = await refusal(WebSocketSignaller.connect(server.url('r')));
    expect(err.reason).toBe('unauthorized');
    expect(err.code).toBe('ERR_SIGNALLING');
    // the query-string form is accepted too
    const ok = await WebSocketSignaller.connect(`${server.url('r')}?token=s3cret`);
    ok.close();
  });

  it('bounds rooms: a third peer is refused (room-full), and so is a room past maxRooms', async () => {
    const server = await serve({ maxRooms: 1 });
    await join(server.url('one'));
    await join(server.url('one'));
    expect((await refusal(WebSocketSignaller.connect(server.url('one')))).reason).toBe('room-full');
    expect((await refusal(WebSocketSignaller.connect(server.url('two')))).reason).toBe('too-many-rooms');
    expect((await refusal(WebSocketSignaller.connect(server.url('bad%2Fname')))).reason).toBe('bad-room');
  });

  it('closes a connection that sends a message above maxMessageBytes (1009)', async () => {
    const server = await serve({ token: 's3cret', maxMessageBytes: 1024 });
    const ws = await raw(server.url('big'));
    const closed = closeOf(ws);
    ws.send('x'.repeat(2000));
    expect(await closed).toBe(1009);
  });

  it('closes a connection that sends faster than its rate (4029), and the signaller reports rate-limited', async () => {
    const server = await serve({ token: 's3cret', messagesPerSecond: 5, messageBurst: 10 });
    const peer = await raw(server.url('fast'));
    const s = await join(server.url('fast'), 's3cret');
    const closed = new Promise<RendezvousError | undefined>((resolve) => s.once('close', resolve));
    for (let i = 0; i < 11; i++) await s.send({ type: 'end-of-candidates' });
    const err = await closed;
    expect(err?.reason).toBe('rate-limited');
    await expect(s.send({ type: 'end-of-candidates' })).rejects.toBe(err);
    peer.close();
  });

  it('a peer that sends garbage is an error event on the other side, not a crash', async () => {
    const server = await serve({ token: 's3cret' });
    const s = await join(server.url('junk'), 's3cret');
    const peer = await raw(server.url('junk'));
    const error = new Promise((resolve) => s.once('error', resolve));
    peer.send('{"type":"nope"}');
    expect(await error).toMatchObject({ code: 'ERR_SIGNALLING' });
  });

  it('closes idle rooms (4008)', async () => {
    const server = await serve({ idleRoomMs: 100 });
    const s = await join(server.url('idle'));
    const err = await new Promise<RendezvousError | undefined>((resolve) => s.once('close', resolve));
    expect(err?.reason).toBe('room-idle');
    await expect.poll(() => server.roomCount).toBe(0);
  });

  it('rejects unusable options with InvalidArgumentError naming the option', async () => {
    await expect(RendezvousServer.start({ maxPeersPerRoom: 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('maxPeersPerRoom'),
    });
    await expect(RendezvousServer.start({ redisUrl: 'http://x' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(WebSocketSignaller.connect('http://x/room')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('the signaller fails typed when the server goes away', async () => {
    const server = await RendezvousServer.start();
    const s = await join(server.url('gone'));
    const closed = new Promise<RendezvousError | undefined>((resolve) => s.once('close', resolve));
    await server.close();
    expect((await closed)?.reason).toBe('server-closing');
    const port = server.address.port;
    expect((await refusal(WebSocketSignaller.connect(`ws://127.0.0.1:${port}/x`))).reason).toBe(
      'connection-lost',
    );
  });
});
