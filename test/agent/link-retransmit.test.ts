import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCheckRequest } from '../../src/agent/check-messages.js';
import { Link, type LinkOwner } from '../../src/agent/link.js';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';
import { FramedConnection } from '../../src/transport/index.js';

const owner: LinkOwner = {
  onRequest: () => undefined,
  isOwnMessage: () => false,
  onDataBeforeSelection: () => 'reject',
  onLinkClosed: () => undefined,
  onInputDropped: () => undefined,
};

let sockets: net.Socket[] = [];
let server: net.Server | undefined;
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets = [];
  server?.close();
});

/** A loopback connection: ours framed, theirs raw-framed and under the test's control. */
async function connectionPair(): Promise<{ ours: FramedConnection; theirs: FramedConnection }> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer(resolve);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const address = server?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const client = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => client.once('connect', r));
  const peer = await accepted;
  sockets.push(client, peer);
  return { ours: new FramedConnection(client), theirs: new FramedConnection(peer) };
}

const request = () =>
  buildCheckRequest({
    localUfrag: 'aaaa',
    remoteUfrag: 'bbbb',
    remotePwd: 'p'.repeat(22),
    priority: 1,
    role: 'controlling',
    tieBreaker: 1n,
    useCandidate: false,
  });

describe('Link.request retransmission (checks through a TURN relay)', () => {
  it('a lost first transmission is answered on a retransmission', async () => {
    const { ours, theirs } = await connectionPair();
    let seen = 0;
    theirs.on('frame', (frame) => {
      seen += 1;
      if (seen === 1) return; // the relay lost it: it arrived before ConnectionBind
      const m = StunMessage.decode(frame);
      theirs.sendFrame(
        new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, m.transactionId).build({
          fingerprint: true,
        }),
      );
    });
    const link = new Link(ours, 'L1', undefined, owner);
    const { bytes, transactionId } = request();
    const started = performance.now();
    const response = await new Promise<StunMessage | undefined>((resolve) =>
      link.request(bytes, transactionId, { timeoutMs: 5000, retransmitMs: [50, 150] }, resolve),
    );
    expect(response?.isSuccess()).toBe(true);
    expect(seen).toBe(2);
    expect(performance.now() - started).toBeLessThan(4000);
    // answered: the later retransmission at 150 ms is not sent
    await new Promise((r) => setTimeout(r, 250));
    expect(seen).toBe(2);
  });

  it('without a schedule the request goes out once and times out', async () => {
    const { ours, theirs } = await connectionPair();
    let seen = 0;
    theirs.on('frame', () => {
      seen += 1;
    });
    const link = new Link(ours, 'L1', undefined, owner);
    const { bytes, transactionId } = request();
    const reason = await new Promise<string | undefined>((resolve) =>
      link.request(bytes, transactionId, { timeoutMs: 300 }, (_r, why) => resolve(why)),
    );
    expect(reason).toBe('check timed out');
    expect(seen).toBe(1);
  });
});
