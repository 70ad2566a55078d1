/**
 * Two agents in one process, wired by the in-memory signaller, exchanging media-style packets: each
 * `send()` arrives as exactly one `'packet'` event (one RFC 4571 frame per packet).
 *
 *   npx tsx examples/media-packets.ts
 */
import { connectWithSignaller, createInMemorySignallerPair, IceAgent } from '../src/index.js';

const [toBob, toAlice] = createInMemorySignallerPair();
const alice = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlling' });
const bob = new IceAgent({ addresses: ['127.0.0.1'], role: 'controlled' });

const [a, b] = await Promise.all([connectWithSignaller(alice, toBob), connectWithSignaller(bob, toAlice)]);
console.log(
  `connected: ${a.localCandidate.type}/${a.localCandidate.tcpType} -> ${a.remoteCandidate.type}/${a.remoteCandidate.tcpType}`,
);

const COUNT = 50;
let received = 0;
const allArrived = new Promise<void>((resolve) => {
  b.on('packet', (packet) => {
    // a 20 ms "audio frame": sequence number in the first two bytes, the size is preserved
    if (packet.length !== 160 || packet.readUInt16BE(0) !== received)
      throw new Error('packet reordered or merged');
    received++;
    if (received === COUNT) resolve();
  });
});
for (let seq = 0; seq < COUNT; seq++) {
  const packet = Buffer.alloc(160);
  packet.writeUInt16BE(seq, 0);
  a.send(packet);
}
await allArrived;
console.log(`received ${received} packets of 160 bytes, boundaries intact`);
alice.close();
bob.close();
