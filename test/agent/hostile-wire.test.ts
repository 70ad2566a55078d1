import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckRequest } from '../../src/agent/check-messages.js';
import { encodeFrame, Rfc4571Deframer } from '../../src/framing/public.js';
import { IceAgent } from '../../src/index.js';
import {
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../src/stun/public.js';
import { peerCheckFrame } from '../support/peer-check.js';
import { agentPair } from './helpers.js';

/**
 * What a stranger or a careless peer can put on the wire must never throw out of a socket handler: each
 * input below crashed the process before. The agent drops it (answers or resets), counts it, and carries on.
 */
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A Binding request with a valid FINGERPRINT whose USERNAME is not UTF-8. */
function badUsernameRequest(): Buffer {
  return new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .add(StunAttr.Username, Buffer.from([0xff, 0xfe, 0x3a, 0xc3, 0x28, 0x80]))
    .priority(1)
    .build({ fingerprint: true });
}

async function passiveAgent(): Promise<{ agent: IceAgent; port: number }> {
  const agent = new IceAgent({ role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['passive'] });
  cleanups.push(() => agent.close());
  await agent.gather();
  const line = agent.localDescription().find((l) => l.includes('tcptype passive'));
  agent.setRemoteParameters({ ufrag: 'peer', pwd: 'peerpassword0123456789abc' });
  return { agent, port: Number(line?.split(' ')[5]) };
}

/** Sends `bytes` on a fresh connection and resolves with the first frame back, or 'closed'. */
function exchange(port: number, bytes: Buffer): Promise<Buffer | 'closed'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const deframer = new Rfc4571Deframer();
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      const [first] = deframer.push(d);
      if (first) resolve(Buffer.from(first));
    });
    socket.on('close', () => resolve('closed'));
    socket.write(bytes);
  });
}

describe('hostile input on the wire', () => {
  it('a check whose USERNAME is not UTF-8 is dropped with its connection, and the agent carries on', async () => {
    const { agent, port } = await passiveAgent();
    expect(await exchange(port, encodeFrame(badUsernameRequest()))).toBe('closed');
    expect(agent.getStats().droppedMessages).toBe(1);
    const ok = await exchange(port, peerCheckFrame(agent));
    expect(StunMessage.decode(ok as Buffer).isSuccess()).toBe(true);
  });

  it('a stranger whose check fails authentication gets its 401, then loses the connection', async () => {
    const { agent, port } = await passiveAgent();
    const forged = encodeFrame(
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
    const closed = new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      cleanups.push(() => socket.destroy());
      socket.on('error', () => {});
      socket.on('close', () => resolve());
      socket.resume(); // read the 401 and the FIN after it
      socket.write(forged);
    });
    expect(await exchange(port, forged)).not.toBe('closed');
    await closed;
    expect(agent.getStats().droppedMessages).toBe(2);
  });

  it('the same bytes from the peer as a packet and as stream data reach the application intact', async () => {
    const pair = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
    );
    cleanups.push(() => pair.close());
    const [a, b] = await Promise.all([pair.alice.connect(), pair.bob.connect()]);
    const bad = badUsernameRequest();
    const packet = new Promise<Buffer>((resolve) => b.once('packet', resolve));
    a.send(bad);
    expect((await packet).equals(bad)).toBe(true);
    expect(pair.bob.state).toBe('completed');
  });
});

/** STUN an application may carry itself: valid FINGERPRINT, but not signed for this ICE session. */
function foreignStun(): Buffer[] {
  const id = Buffer.alloc(12, 7);
  return [
    new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .username('x:y')
      .build({ fingerprint: true }),
    new StunMessageBuilder(StunMethod.Binding, StunClass.Indication).build({ fingerprint: true }),
    new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, id)
      .xorMappedAddress({ family: 4, address: '192.0.2.1', port: 9 })
      .build({ fingerprint: true }),
    new StunMessageBuilder(StunMethod.Binding, StunClass.ErrorResponse, id)
      .errorCode(401)
      .build({ fingerprint: true }),
  ];
}

describe('application data that looks like STUN is delivered, never eaten (item 7)', () => {
  async function connected() {
    const pair = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
    );
    cleanups.push(() => pair.close());
    const [a, b] = await Promise.all([pair.alice.connect(), pair.bob.connect()]);
    return { a, b };
  }

  it('packet mode: each foreign STUN message arrives as a packet', async () => {
    const { a, b } = await connected();
    const sent = foreignStun();
    const got: Buffer[] = [];
    const all = new Promise<void>((resolve) =>
      b.on('packet', (p) => {
        got.push(p);
        if (got.length === sent.length) resolve();
      }),
    );
    for (const m of sent) a.send(m);
    await all;
    expect(got.map((p) => p.toString('hex'))).toEqual(sent.map((m) => m.toString('hex')));
  });

  it('stream mode: every byte of written STUN messages arrives', async () => {
    const { a, b } = await connected();
    const messages = foreignStun();
    const sent = Buffer.concat(messages);
    const reader = b.stream();
    const chunks: Buffer[] = [];
    let total = 0;
    const all = new Promise<void>((resolve) =>
      reader.on('data', (c: Buffer) => {
        chunks.push(c);
        total += c.length;
        if (total >= sent.length) resolve();
      }),
    );
    const writer = a.stream();
    for (const m of messages) writer.write(m);
    await all;
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
  });
});

describe("a peer's error response", () => {
  for (const [name, value] of [
    ['class 7', Buffer.from([0, 0, 7, 0])],
    ['number above 99', Buffer.from([0, 0, 4, 150])],
    ['reason not UTF-8', Buffer.from([0, 0, 4, 1, 0xff, 0xfe, 0xfd, 0x80])],
  ] as const) {
    it(`answering our check with ERROR-CODE ${name} fails the pair, not the process`, async () => {
      const errors: Error[] = [];
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        const deframer = new Rfc4571Deframer();
        socket.on('data', (d: Buffer) => {
          for (const f of deframer.push(d)) {
            const request = StunMessage.decode(Buffer.from(f));
            const response = new StunMessageBuilder(
              StunMethod.Binding,
              StunClass.ErrorResponse,
              request.transactionId,
            )
              .add(StunAttr.ErrorCode, value)
              .build({ fingerprint: true });
            socket.write(encodeFrame(response));
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => server.close());
      const { port } = server.address() as net.AddressInfo;
      const agent = new IceAgent({
        role: 'controlling',
        addresses: ['127.0.0.1'],
        tcpTypes: ['active'],
        gatherTimeoutMs: 1000,
        // the peer is there from the start and answers every check: no waiting for it to get our candidates
        peerWaitMs: 0,
      });
      cleanups.push(() => agent.close());
      agent.on('error', (e) => errors.push(e));
      agent.setRemoteParameters({ ufrag: 'peer', pwd: 'peerpassword0123456789abc' });
      agent.addRemoteCandidate(`candidate:1 1 TCP 2128609279 127.0.0.1 ${port} typ host tcptype passive`);
      agent.addRemoteCandidate(null);
      await expect(agent.connect()).rejects.toMatchObject({ code: 'ERR_ICE_FAILED' });
      expect(agent.getStats().pairs[0]?.state).toBe('failed');
    });
  }
});

describe("a late answer to ICE's own check after selection (item 7's sibling)", () => {
  it('a response signed with the peer password but matching no transaction is dropped, never handed to the application', async () => {
    const pair = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] },
    );
    cleanups.push(() => pair.close());
    const [a, b] = await Promise.all([pair.alice.connect(), pair.bob.connect()]);
    // what a check or consent check whose transaction already ended gets back: signed by the peer (alice)
    const late = new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, Buffer.alloc(12, 9))
      .xorMappedAddress({ family: 4, address: '127.0.0.1', port: 9 })
      .build({ integrityKey: shortTermKey(pair.alice.localParameters.pwd), fingerprint: true });
    const packets: Buffer[] = [];
    const next = new Promise<void>((resolve) =>
      b.on('packet', (p) => {
        packets.push(p);
        if (p.toString() === 'after') resolve();
      }),
    );
    const dropped = pair.bob.getStats().droppedMessages;
    a.send(late);
    a.send(Buffer.from('after'));
    await next;
    expect(packets.map((p) => p.toString())).toEqual(['after']);
    expect(pair.bob.getStats().droppedMessages).toBe(dropped + 1);
  });
});
