import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Rfc4571Deframer } from '../../src/framing/public.js';
import { IceAgent } from '../../src/index.js';
import { StunMessage } from '../../src/stun/public.js';
import { peerCheckFrame } from '../support/peer-check.js';

/**
 * The peer's S-O connection reached our S-O port (its listener, up while another dial waits) before our own
 * dial of that pair started. That dial can never bind the 4-tuple (the accepted socket holds it: EADDRNOTAVAIL),
 * so before the fix it retried until the dial timeout, failed the pair, and reset the very connection the peer's
 * check had just succeeded on: in the lab's hairpin cell hostA nominated that connection and hostB, its check
 * never sent, failed ICE (`broken`, ~1 run in 10).
 */
const PEER_PWD = 'peerpassword0123456789abc';
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** A port on 127.0.0.1 nobody listens on: a SYN to it draws a RST, so a dial to it keeps retrying. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Frames read from a raw socket, in order, with 'closed' once it closed. */
function reader(socket: net.Socket): () => Promise<Buffer | 'closed'> {
  const deframer = new Rfc4571Deframer();
  const frames: Buffer[] = [];
  let closed = false;
  let wake = () => {};
  socket.on('data', (d: Buffer) => {
    frames.push(...deframer.push(d).map((f) => Buffer.from(f)));
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  return () =>
    new Promise((resolve) => {
      const next = () => {
        const f = frames.shift();
        wake = f || closed ? () => {} : next;
        if (f) resolve(f);
        else if (closed) resolve('closed');
      };
      next();
    });
}

/** Connects from `localPort` to the agent's S-O port, again after each refusal (its listener is up between tries). */
async function connectFrom(localPort: number, port: number): Promise<net.Socket> {
  for (let i = 0; i < 500; i++) {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1', localPort });
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return socket;
    socket.destroy();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the S-O listener never took the connection');
}

/** Resolves once the agent has a pair towards `port` in progress (its check, or its dial, started). */
async function checking(agent: IceAgent, port: number): Promise<void> {
  const started = () =>
    agent.getStats().pairs.some((p) => p.remote.port === port && p.state === 'in-progress');
  for (let i = 0; i < 2000 && !started(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!started()) throw new Error(`no check towards port ${port}`);
}

describe('an S-O connection accepted before our dial of its pair', () => {
  it('carries our check of that pair instead of failing it', async () => {
    const agent = new IceAgent({
      role: 'controlled',
      addresses: ['127.0.0.1'],
      tcpTypes: ['so'],
      checkTimeoutMs: 1500,
      soRetryDelayMs: 20,
    });
    cleanups.push(() => agent.close());
    agent.on('error', () => {});
    await agent.gather();
    const soLine = agent.localDescription().find((l) => l.includes('tcptype so'));
    const soPort = Number(soLine?.split(' ')[5]);
    agent.setRemoteParameters({ ufrag: 'peer', pwd: PEER_PWD });
    const candidate = (port: number, priority: number) =>
      `a=candidate:${port} 1 TCP ${priority} 127.0.0.1 ${port} typ host tcptype so`;
    // a remote S-O candidate at a closed port: the agent keeps dialling it, its listener up between refusals
    const blocker = await closedPort();
    agent.addRemoteCandidate(candidate(blocker, 2_000_000_000));
    await checking(agent, blocker);
    // the peer's S-O port meets ours first
    const peerPort = await closedPort();
    const socket = await connectFrom(peerPort, soPort);
    cleanups.push(() => socket.destroy());
    socket.on('error', () => {});
    const next = reader(socket);
    // only now the agent learns that candidate and starts its own check of the pair
    agent.addRemoteCandidate(candidate(peerPort, 1_000_000_000));
    await checking(agent, peerPort);
    socket.write(peerCheckFrame(agent));
    // our check's answer, then the agent's own check of the pair on the same connection
    const answer = await next();
    expect(answer).not.toBe('closed');
    expect(StunMessage.decode(answer as Buffer).isSuccess()).toBe(true);
    const own = await next();
    expect(own).not.toBe('closed');
    expect(StunMessage.decode(own as Buffer).isRequest()).toBe(true);
  }, 30_000);
});
