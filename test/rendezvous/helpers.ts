import { IceAgent } from '../../src/agent.js';
import { connectWithSignaller } from '../../src/signalling/attach.js';
import type { WebSocketSignaller } from '../../src/signalling/websocket.js';

/** Two loopback agents connected through two signallers; resolves when one byte went each way. */
export async function connectPair(
  a: WebSocketSignaller,
  b: WebSocketSignaller,
  cleanups: Array<() => void>,
): Promise<void> {
  const options = { addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] as const };
  const alice = new IceAgent({ ...options, tcpTypes: [...options.tcpTypes], role: 'controlling' });
  const bob = new IceAgent({ ...options, tcpTypes: [...options.tcpTypes], role: 'controlled' });
  cleanups.push(
    () => alice.close(),
    () => bob.close(),
  );
  const [ca, cb] = await Promise.all([connectWithSignaller(alice, a), connectWithSignaller(bob, b)]);
  const got = new Promise<string>((resolve) => cb.once('packet', (p: Buffer) => resolve(p.toString())));
  ca.send(Buffer.from('hello through the rendezvous'));
  if ((await got) !== 'hello through the rendezvous') throw new Error('wrong bytes');
}
