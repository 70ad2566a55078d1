/**
 * A child process of bench/scale.ts: opens COUNT connections to a mux port from SOURCES loopback addresses
 * (127.0.1.1 ...), at most IN_FLIGHT open at once: a third stay idle, a third send random bytes, a third a
 * well-formed Binding request for a ufrag nobody owns. Reports how they ended.
 * Args: port count sources inFlight
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeFrame } from '../src/framing/index.js';
import { StunClass, StunMessageBuilder, StunMethod } from '../src/stun/index.js';

const [port, count, sources, inFlight] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];

function unknownCheck(): Buffer {
  const builder = new StunMessageBuilder(StunMethod.Binding, StunClass.Request);
  builder.username(`junk${randomBytes(4).toString('hex')}:x`);
  return encodeFrame(builder.build({ fingerprint: true }));
}

const ended = { closedByServer: 0, connectFailed: 0 };
let opened = 0;
let open = 0;
let started = 0;
const t0 = performance.now();

function one(i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      localAddress: `127.0.1.${1 + (i % sources)}`,
      autoSelectFamily: false,
    });
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      opened++;
      open++;
      if (i % 3 === 1) socket.write(randomBytes(64));
      else if (i % 3 === 2) socket.write(unknownCheck());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (connected) {
        open--;
        ended.closedByServer++;
      } else ended.connectFailed++;
      resolve();
    });
  });
}

async function lane(): Promise<void> {
  while (started < count) await one(started++);
}

process.send?.({ type: 'ready' });
process.on('message', (message: { type: string }) => {
  if (message.type !== 'go') return;
  void Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane)).then(() => {
    process.send?.({ type: 'done', opened, ...ended, stillOpen: open, ms: performance.now() - t0 });
  });
});
