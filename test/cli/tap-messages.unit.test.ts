import { describe, expect, it } from 'vitest';
import { tapMessages } from '../../src/cli/session.js';
import { createInMemorySignallerPair } from '../../src/signalling/in-memory.js';
import type { SignalMessage } from '../../src/signalling/messages.js';

/** Lets the in-memory signaller deliver what it queued. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the CLI session watches the peer messages through the agent handler', () => {
  it('messages that arrived before anyone subscribed reach both the observer and the one handler, in order', async () => {
    const [ours, peer] = createInMemorySignallerPair();
    const sent: SignalMessage[] = [
      { type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuv' },
      { type: 'candidate', candidate: 'candidate:1 1 TCP 2128609279 127.0.0.1 9 typ host tcptype active' },
      { type: 'end-of-candidates' },
    ];
    for (const m of sent) void peer.send(m);
    await settle();
    const observed: SignalMessage[] = [];
    const handled: SignalMessage[] = [];
    const tapped = tapMessages(ours, (m) => observed.push(m));
    tapped.onMessage((m) => handled.push(m));
    await settle();
    expect(handled).toEqual(sent);
    expect(observed).toEqual(sent);
  });

  it('sends through to the peer', async () => {
    const [ours, peer] = createInMemorySignallerPair();
    const got: SignalMessage[] = [];
    peer.onMessage((m) => got.push(m));
    void tapMessages(ours, () => undefined).send({ type: 'end-of-candidates' });
    await settle();
    expect(got).toEqual([{ type: 'end-of-candidates' }]);
  });
});
