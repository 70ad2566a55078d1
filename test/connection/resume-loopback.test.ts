import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FramedResumePath } from '../../src/connection/framed-resume-path.js';
import { ResumableDuplex } from '../../src/connection/resumable-duplex.js';
import { shortTermKey } from '../../src/stun/index.js';
import { FramedConnection } from '../../src/transport/index.js';
import { socketPair } from '../transport/helpers.js';

const KEY_A = shortTermKey('loopbackpasswordA123456789');
const KEY_B = shortTermKey('loopbackpasswordB123456789');
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A real loopback TCP connection as the two sides' paths. */
async function pathPair(): Promise<{ a: FramedResumePath; b: FramedResumePath; kill(): void }> {
  const pair = await socketPair();
  cleanups.push(() => pair.close());
  const fa = new FramedConnection(pair.client);
  const fb = new FramedConnection(pair.server);
  return {
    a: new FramedResumePath(fa, { localKey: KEY_A, remoteKey: KEY_B }),
    b: new FramedResumePath(fb, { localKey: KEY_B, remoteKey: KEY_A }),
    // the network under it dies: both sockets go at once, whatever was in flight is lost
    kill: () => {
      fa.reset();
      fb.reset();
    },
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A transfer each way with a switch in the middle; checks what each side read. */
async function transferWithSwitch(mode: 'alive' | 'dead', size: number): Promise<void> {
  const first = await pathPair();
  const a = new ResumableDuplex(first.a, { window: 1 << 20 });
  const b = new ResumableDuplex(first.b, { window: 1 << 20 });
  cleanups.push(() => {
    a.destroy();
    b.destroy();
  });
  const dataA = randomBytes(size);
  const dataB = randomBytes(size / 2);
  const read = (d: ResumableDuplex) =>
    new Promise<Buffer>((resolve, reject) => {
      const got: Buffer[] = [];
      d.on('data', (c: Buffer) => got.push(c));
      d.once('end', () => resolve(Buffer.concat(got)));
      d.once('error', reject);
    });
  const write = async (d: ResumableDuplex, data: Buffer) => {
    for (let off = 0; off < data.length; off += 50_000) {
      if (!d.write(data.subarray(off, off + 50_000))) await new Promise((r) => d.once('drain', r));
    }
    await new Promise<void>((resolve, reject) =>
      d.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  };
  const readA = read(a);
  const readB = read(b);
  const writes = Promise.all([write(a, dataA), write(b, dataB)]);
  // switch once a third of A's data has arrived, bytes in flight both ways
  await new Promise<void>((resolve) => {
    let n = 0;
    b.on('data', (c: Buffer) => {
      n += c.length;
      if (n >= size / 3) resolve();
    });
  });
  const second = await pathPair();
  if (mode === 'dead') {
    // a slow reader for a moment: sent bytes pile up in the socket buffers, and the old path takes them with it
    b.pause();
    for (let i = 0; i < 100_000 && a.core.sendLedger.sent - b.core.receiveLedger.received < 200_000; i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(a.core.sendLedger.sent - b.core.receiveLedger.received).toBeGreaterThanOrEqual(200_000);
    first.kill();
    b.resume();
  }
  a.core.switchTo(second.a);
  // the other side learns of the nomination a little later, as it would
  await new Promise((r) => setTimeout(r, 5));
  b.core.switchTo(second.b);
  const [gotA, gotB] = await Promise.all([readA, readB]);
  await writes;
  expect(gotB.length).toBe(dataA.length);
  expect(sha256(gotB)).toBe(sha256(dataA));
  expect(sha256(gotA)).toBe(sha256(dataB));
}

describe('resumable stream over real loopback TCP connections', () => {
  it('switches to a new connection with the old one alive: every byte once, in order, both ways', async () => {
    await transferWithSwitch('alive', 16_000_000);
  });

  it('switches after the old connection died with bytes in flight: they are resent, none lost', async () => {
    await transferWithSwitch('dead', 16_000_000);
  });
});
