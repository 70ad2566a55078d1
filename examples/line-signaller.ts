/**
 * A Signaller in ten lines over any byte stream: one JSON message per line. Here the two ends talk over
 * a plain TCP socket on loopback, standing in for the application's own channel (WebSocket, HTTP, SIP…).
 *
 *   npx tsx examples/line-signaller.ts
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import {
  connectWithSignaller,
  decodeSignalMessage,
  encodeSignalMessage,
  IceAgent,
  type Signaller,
  type SignalMessage,
} from '../src/index.js';

/** The whole adapter: write a line per message, parse a line per message. */
function lineSignaller(channel: Duplex): Signaller {
  const lines = createInterface({ input: channel });
  return {
    send: (message) => void channel.write(`${encodeSignalMessage(message)}\n`),
    onMessage(handler: (message: SignalMessage) => void) {
      const onLine = (line: string) => handler(decodeSignalMessage(line));
      lines.on('line', onLine);
      return () => lines.off('line', onLine);
    },
  };
}

// the "signalling server": one TCP connection between the two apps
const server = net.createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;
const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
const channelA = net.connect(port, '127.0.0.1');
const channelB = await accepted;

const alice = new IceAgent({ addresses: ['127.0.0.1'] });
const bob = new IceAgent({ addresses: ['127.0.0.1'] });
// the offerer is the agent whose parameters are read first; it becomes controlling
const [a, b] = await Promise.all([
  connectWithSignaller(alice, lineSignaller(channelA)),
  connectWithSignaller(bob, lineSignaller(channelB)),
]);
const echoed = new Promise<string>((resolve) =>
  a.stream().once('data', (d: Buffer) => resolve(d.toString())),
);
b.stream().on('data', (d: Buffer) => b.stream().write(d.toString().toUpperCase()));
a.stream().write('hello over ice-tcp');
console.log(`echo: ${await echoed}`);
alice.close();
bob.close();
channelA.destroy();
channelB.destroy();
server.close();
