import net from 'node:net';
import { encodeFrame, isStunFrame, Rfc4571Deframer } from '../../src/framing/index.js';
import { IceAgent, type IceAgentOptions, type IceConnection } from '../../src/index.js';
import {
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../src/stun/index.js';

/** How the fake peer answers the agent's checks once the pair is selected. */
export type Answer = 'success' | 'silent' | { error: number; signed: boolean };

/** An agent (controlled, passive only) connected to a peer that speaks STUN over TCP from the test itself. */
export interface FakePeer {
  agent: IceAgent;
  conn: IceConnection;
  socket: net.Socket;
  /** What the peer does with each later request of the agent (consent checks). */
  answer: Answer;
  /** The agent's requests after selection, in order. */
  readonly requests: StunMessage[];
  /** Sends a check signed with the agent's credentials and resolves with the agent's response. */
  check(): Promise<StunMessage>;
  /** Sends one application frame. */
  sendData(payload: Buffer): void;
  close(): void;
}

const PEER = { ufrag: 'fake', pwd: 'fakepeerpassword0123456789' };

/**
 * The fake peer dials the agent's passive candidate and nominates at once (USE-CANDIDATE, regular nomination
 * seen from the controlled side: our check with it, then the agent's triggered check answered).
 */
export async function fakePeer(options: IceAgentOptions): Promise<FakePeer> {
  const agent = new IceAgent({
    role: 'controlled',
    addresses: ['127.0.0.1'],
    tcpTypes: ['passive'],
    ...options,
  });
  const local = agent.localParameters;
  const agentKey = shortTermKey(local.pwd);
  const peerKey = shortTermKey(PEER.pwd);
  const port = await new Promise<number>((resolve) => {
    agent.on('candidate', (c) => {
      if (c?.tcpType === 'passive') resolve(c.port);
    });
    void agent.gather();
  });
  agent.setRemoteParameters(PEER);
  agent.addRemoteCandidate('candidate:1 1 TCP 2128609279 127.0.0.1 9 typ host tcptype active');
  agent.addRemoteCandidate(null);
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const deframer = new Rfc4571Deframer();
  const waiting = new Map<string, (m: StunMessage) => void>();
  let selected = false;
  const peer: FakePeer = {
    agent,
    conn: undefined as unknown as IceConnection,
    socket,
    answer: 'success',
    requests: [],
    check() {
      const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
        .username(`${local.ufrag}:${PEER.ufrag}`)
        .priority(1_000_000)
        .iceControlling(1n);
      const bytes = b.build({ integrityKey: agentKey, fingerprint: true });
      const answered = new Promise<StunMessage>((resolve) =>
        waiting.set(b.transactionId.toString('hex'), resolve),
      );
      socket.write(encodeFrame(bytes));
      return answered;
    },
    sendData(payload) {
      socket.write(encodeFrame(payload));
    },
    close() {
      agent.close();
      socket.destroy();
    },
  };
  const respond = (request: StunMessage) => {
    const answer = selected ? peer.answer : 'success';
    if (answer === 'silent') return;
    const b =
      answer === 'success'
        ? new StunMessageBuilder(
            StunMethod.Binding,
            StunClass.SuccessResponse,
            request.transactionId,
          ).xorMappedAddress({
            family: 4,
            address: '127.0.0.1',
            port,
          })
        : new StunMessageBuilder(
            StunMethod.Binding,
            StunClass.ErrorResponse,
            request.transactionId,
          ).errorCode(answer.error);
    const signed = answer === 'success' || answer.signed;
    socket.write(
      encodeFrame(b.build(signed ? { integrityKey: peerKey, fingerprint: true } : { fingerprint: true })),
    );
  };
  socket.on('data', (chunk: Buffer) => {
    for (const frame of deframer.push(chunk)) {
      if (!isStunFrame(frame)) continue; // the agent's application data: not the fake's business
      const message = StunMessage.decode(frame);
      if (message.isRequest()) {
        if (selected) peer.requests.push(message);
        respond(message);
      } else {
        const key = message.transactionId.toString('hex');
        waiting.get(key)?.(message);
        waiting.delete(key);
      }
    }
  });
  const nominate = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .username(`${local.ufrag}:${PEER.ufrag}`)
    .priority(1_000_000)
    .iceControlling(1n)
    .useCandidate();
  socket.write(encodeFrame(nominate.build({ integrityKey: agentKey, fingerprint: true })));
  try {
    peer.conn = await agent.connect();
  } catch (err) {
    peer.close();
    throw err;
  }
  selected = true;
  return peer;
}
