import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckRequest } from '../../src/agent/check-messages.js';
import { encodeFrame, Rfc4571Deframer } from '../../src/framing/public.js';
import { IceAgent } from '../../src/index.js';
import { StunMessage } from '../../src/stun/public.js';

/**
 * The agent as a raw TCP peer sees it: what goes over the wire to its passive candidate when the checks are
 * forged or when data comes before any check succeeded.
 */
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

async function passiveAgent(): Promise<{ agent: IceAgent; port: number }> {
  const agent = new IceAgent({ role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['passive'] });
  cleanups.push(() => agent.close());
  await agent.gather();
  const line = agent.localDescription().find((l) => l.includes('tcptype passive'));
  const port = Number(line?.split(' ')[5]);
  agent.setRemoteParameters({ ufrag: 'peer', pwd: 'peerpassword0123456789abc' });
  return { agent, port };
}

function rawPeer(port: number): { socket: net.Socket; frames: Buffer[]; next(): Promise<Buffer | 'closed'> } {
  const socket = net.connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  const deframer = new Rfc4571Deframer();
  const frames: Buffer[] = [];
  let wake = () => {};
  let closed = false;
  socket.on('data', (d: Buffer) => {
    frames.push(...deframer.push(d).map((f) => Buffer.from(f)));
    wake();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake();
  });
  return {
    socket,
    frames,
    next: () =>
      new Promise((resolve) => {
        const check = () => {
          const f = frames.shift();
          if (f) resolve(f);
          else if (closed) resolve('closed');
          else wake = check;
        };
        check();
      }),
  };
}

function check(agent: IceAgent, pwd: string): Buffer {
  return buildCheckRequest({
    localUfrag: 'peer',
    remoteUfrag: agent.localParameters.ufrag,
    remotePwd: pwd,
    priority: 1234,
    role: 'controlling',
    tieBreaker: 42n,
    useCandidate: false,
  }).bytes;
}

describe('the agent on the wire', () => {
  it('answers a check signed with the wrong password with 401 and changes nothing', async () => {
    const { agent, port } = await passiveAgent();
    const peer = rawPeer(port);
    peer.socket.write(encodeFrame(check(agent, 'notthepasswordatallxyz12')));
    const answer = await peer.next();
    expect(answer).not.toBe('closed');
    const response = StunMessage.decode(answer as Buffer);
    expect(response.isError()).toBe(true);
    expect(response.errorCode()?.code).toBe(401);
    expect(agent.getStats().pairs).toHaveLength(0);
  });

  it('answers a correctly signed check with a signed success carrying the mapped address', async () => {
    const { agent, port } = await passiveAgent();
    const peer = rawPeer(port);
    await new Promise((resolve) => peer.socket.once('connect', resolve));
    peer.socket.write(encodeFrame(check(agent, agent.localParameters.pwd)));
    const response = StunMessage.decode((await peer.next()) as Buffer);
    expect(response.isSuccess()).toBe(true);
    expect(response.xorMappedAddress()).toMatchObject({ address: '127.0.0.1', port: peer.socket.localPort });
    expect(agent.getStats().pairs.some((p) => p.remote.type === 'prflx')).toBe(true);
  });

  it('drops a connection whose first frame is application data, before any check succeeded', async () => {
    const { agent, port } = await passiveAgent();
    let connected = false;
    agent.connect().then(
      () => {
        connected = true;
      },
      () => {},
    );
    const peer = rawPeer(port);
    peer.socket.write(encodeFrame(Buffer.from('data before any check')));
    expect(await peer.next()).toBe('closed');
    expect(connected).toBe(false);
    expect(agent.getStats().pairs).toHaveLength(0);
  });
});
