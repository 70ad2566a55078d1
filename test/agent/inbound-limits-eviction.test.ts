import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCheckRequest } from '../../src/agent/check-messages.js';
import { encodeFrame, Rfc4571Deframer } from '../../src/framing/public.js';
import { IceAgent, type IceAgentOptions } from '../../src/index.js';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../../src/stun/public.js';

/**
 * Who goes first when a port is full of unauthenticated connections: strangers whose checks failed
 * authentication (a flood of bad credentials: answered once, then only waiting for their reset), then other
 * strangers, and last connections from an address the peer signalled. A connection that may still
 * authenticate never makes room for one that cannot, and piling checks into a doomed connection costs nothing.
 */
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  vi.useRealTimers();
});

async function passiveAgent(options: IceAgentOptions = {}): Promise<{ agent: IceAgent; port: number }> {
  const agent = new IceAgent({
    role: 'controlled',
    addresses: ['127.0.0.1'],
    tcpTypes: ['passive'],
    ...options,
  });
  cleanups.push(() => agent.close());
  await agent.gather();
  const line = agent.localDescription().find((l) => l.includes('tcptype passive'));
  agent.setRemoteParameters({ ufrag: 'peer', pwd: 'peerpassword0123456789abc' });
  return { agent, port: Number(line?.split(' ')[5]) };
}

/** A check with the agent's ufrag but signed with a wrong password: answered 401. */
function forgedCheck(agent: IceAgent): Buffer {
  return encodeFrame(
    buildCheckRequest({
      localUfrag: 'peer',
      remoteUfrag: agent.localParameters.ufrag,
      remotePwd: 'notthepasswordatallxyz12',
      priority: 1,
      role: 'controlling',
      tieBreaker: 1n,
      useCandidate: false,
    }).bytes,
  );
}

/** A client connection that collects the frames it receives and notes when it closed. */
interface Stranger {
  socket: net.Socket;
  frames: Buffer[];
  closed: boolean;
  /** Resolves with the next frame received, or 'closed'. */
  nextFrame(): Promise<Buffer | 'closed'>;
}

async function stranger(port: number, localAddress = '127.0.0.1'): Promise<Stranger> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  cleanups.push(() => socket.destroy());
  const deframer = new Rfc4571Deframer();
  const waiters: Array<(f: Buffer | 'closed') => void> = [];
  const s: Stranger = {
    socket,
    frames: [],
    closed: false,
    nextFrame: () =>
      new Promise((resolve) => {
        if (s.closed) resolve('closed');
        else waiters.push(resolve);
      }),
  };
  socket.on('error', () => {});
  socket.on('data', (d: Buffer) => {
    for (const f of deframer.push(d)) {
      const frame = Buffer.from(f);
      s.frames.push(frame);
      waiters.shift()?.(frame);
    }
  });
  socket.on('close', () => {
    s.closed = true;
    for (const w of waiters.splice(0)) w('closed');
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  return s;
}

function expectUnauthorized(frame: Buffer | 'closed'): void {
  expect(frame).not.toBe('closed');
  const message = StunMessage.decode(frame as Buffer);
  expect(message.isError()).toBe(true);
  expect(message.errorCode()?.code).toBe(401);
}

describe('strangers that failed authentication', () => {
  it('do not hold a slot: a newcomer at the cap evicts an answered stranger, not an unanswered one', async () => {
    // fake timers: no deadline and no reset-after-answer fires by itself, only the cap acts
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { agent, port } = await passiveAgent({ maxUnauthenticatedConnections: 4 });
    // accepted first, so the oldest: a connection that has not said anything yet (it may be the real peer)
    const quiet = await stranger(port);
    const answered: Stranger[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await stranger(port);
      s.socket.write(forgedCheck(agent));
      expectUnauthorized(await s.nextFrame());
      answered.push(s);
    }
    // the cap is full (1 quiet + 3 answered): the newcomer is still served
    const newcomer = await stranger(port);
    newcomer.socket.write(forgedCheck(agent));
    expectUnauthorized(await newcomer.nextFrame());
    // the quiet one kept its slot and is still served
    quiet.socket.write(forgedCheck(agent));
    expectUnauthorized(await quiet.nextFrame());
    // the oldest answered stranger made room (no timer runs: only the eviction closes it), the other answered
    // ones still wait for their reset
    expect(await answered[0]?.nextFrame()).toBe('closed');
    expect(answered.slice(1).map((s) => s.closed)).toEqual([false, false]);
  }, 10_000);

  it('a connection from an address the peer signalled is evicted only after every stranger', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { agent, port } = await passiveAgent({ maxUnauthenticatedConnections: 4 });
    agent.addRemoteCandidate('candidate:1 1 TCP 2128609279 127.0.0.1 9 typ host tcptype active');
    // the oldest, from the peer's address, not authenticated yet (its check may be on its way)
    const fromPeer = await stranger(port, '127.0.0.1');
    const others: Stranger[] = [];
    for (let i = 0; i < 4; i++) others.push(await stranger(port, '127.0.0.2'));
    // the fifth connection at a cap of 4 made room: a stranger's, not the peer's
    expect(await others[0]?.nextFrame()).toBe('closed');
    fromPeer.socket.write(forgedCheck(agent));
    expectUnauthorized(await fromPeer.nextFrame());
    expect(others.slice(1).map((s) => s.closed)).toEqual([false, false, false]);
  }, 10_000);

  it('a stranger whose first frame is junk goes before a quiet one, as if it had failed authentication', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { agent, port } = await passiveAgent({ maxUnauthenticatedConnections: 4 });
    // every connection below comes from the peer's address: only what they sent tells them apart
    agent.addRemoteCandidate('candidate:1 1 TCP 2128609279 127.0.0.1 9 typ host tcptype active');
    const quiet = await stranger(port);
    // a success response to no request of ours: no peer sends that before its check
    const junk = encodeFrame(
      new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse).build({ fingerprint: true }),
    );
    const junky: Stranger[] = [];
    for (let i = 1; i <= 3; i++) {
      const s = await stranger(port);
      s.socket.write(junk);
      // nothing is answered: wait until the agent has counted it
      while (agent.getStats().droppedMessages < i) await new Promise((r) => setImmediate(r));
      junky.push(s);
    }
    const newcomer = await stranger(port);
    newcomer.socket.write(forgedCheck(agent));
    expectUnauthorized(await newcomer.nextFrame());
    quiet.socket.write(forgedCheck(agent));
    expectUnauthorized(await quiet.nextFrame());
    expect(await junky[0]?.nextFrame()).toBe('closed');
  }, 10_000);

  it('are answered once: further checks in the same segment are dropped unread, not even cut', async () => {
    const { agent, port } = await passiveAgent();
    const s = await stranger(port);
    const one = forgedCheck(agent);
    s.socket.write(Buffer.concat(Array.from({ length: 8 }, () => one)));
    expectUnauthorized(await s.nextFrame());
    expect(await s.nextFrame()).toBe('closed');
    expect(s.frames).toHaveLength(1);
    // the forged check alone: the seven behind it were never cut from the stream (a flood pays once)
    expect(agent.getStats().droppedMessages).toBe(1);
  });
});
