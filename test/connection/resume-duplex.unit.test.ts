import { createHash, randomBytes } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ResumableDuplex } from '../../src/connection/resumable-duplex.js';
import { FakeTimers, type SimEnd, SimLink } from './resume-sim.js';

const WINDOW = 64 * 1024;

/** Delivers what is in flight on every link, letting the streams' async machinery run in between. */
async function pump(links: SimLink[], timers: FakeTimers, until: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !until(); i++) {
    const ready = links.flatMap((l) => [l.a, l.b]).filter((e: SimEnd) => e.ready());
    if (ready.length > 0) (ready[i % ready.length] as SimEnd).deliverOne(i);
    else if (!timers.fireNext()) await tick();
    if (i % 16 === 0) await tick();
  }
  if (!until()) throw new Error('pump: condition never met');
}

describe('ResumableDuplex', () => {
  it('one Duplex across a path that dies mid-transfer: every byte once, in order; finish means acknowledged', async () => {
    const timers = new FakeTimers();
    const links = [new SimLink(0)];
    const first = links[0] as SimLink;
    const a = new ResumableDuplex(first.a, { window: WINDOW, timers });
    const b = new ResumableDuplex(first.b, { window: WINDOW, timers });
    const data = randomBytes(1_000_000);
    const got: Buffer[] = [];
    let ended = false;
    let finished = false;
    let unackedAtFinish = -1;
    b.on('data', (c: Buffer) => got.push(c));
    b.on('end', () => {
      ended = true;
    });
    a.on('finish', () => {
      finished = true;
      unackedAtFinish = a.core.sendLedger.unacked;
    });
    // the writer honours backpressure as pipeline() would
    const writer = (async () => {
      for (let off = 0; off < data.length; ) {
        const n = Math.min(data.length - off, 1 + ((off * 7919) % 30_000));
        if (!a.write(data.subarray(off, off + n))) await new Promise((r) => a.once('drain', r));
        off += n;
      }
      a.end();
    })();
    await pump(links, timers, () => got.reduce((n, c) => n + c.length, 0) > 300_000);
    first.cut();
    const second = new SimLink(1);
    links.push(second);
    a.core.switchTo(second.a);
    b.core.switchTo(second.b);
    await pump(links, timers, () => ended);
    await writer;
    await pump(links, timers, () => finished);
    const all = Buffer.concat(got);
    expect(all.length).toBe(data.length);
    expect(createHash('sha256').update(all).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(unackedAtFinish).toBe(0);
    // the other direction ends too: both Duplexes close by themselves, with their paths and timers
    a.resume();
    b.end();
    await pump(links, timers, () => a.destroyed && b.destroyed);
    expect(a.readableEnded).toBe(true);
    expect(second.a.closed && second.b.closed).toBe(true);
    expect(timers.armed).toBe(0);
  });

  it("'finish' waits until the peer acknowledged every byte, not merely until they were sent", async () => {
    const timers = new FakeTimers();
    const link = new SimLink(0);
    const a = new ResumableDuplex(link.a, { window: WINDOW, timers });
    const b = new ResumableDuplex(link.b, { window: WINDOW, timers });
    b.resume();
    let finished = false;
    a.on('finish', () => {
      finished = true;
    });
    a.end(Buffer.alloc(1000, 1));
    for (let i = 0; i < 10; i++) await tick();
    expect(finished).toBe(false);
    await pump([link], timers, () => finished);
    // the end counts as one unit after the last byte
    expect(a.core.sendLedger.acked).toBe(1001);
    a.destroy();
    b.destroy();
  });

  it('a protocol error destroys the Duplex with ERR_RESUME, and a pending write fails with it', async () => {
    const timers = new FakeTimers();
    const link = new SimLink(0);
    const a = new ResumableDuplex(link.a, { window: 10, timers });
    const errors: unknown[] = [];
    a.on('error', (e) => errors.push(e));
    let writeError: unknown;
    a.write(Buffer.alloc(100), (e) => {
      writeError = e;
    });
    // the peer acknowledges bytes that were never sent
    link.b.open({ data() {}, control() {}, end() {}, drain() {}, close() {}, fail() {} });
    link.b.sendControl({ kind: 'ack', bytes: 1000 });
    await pump([link], timers, () => a.destroyed);
    await tick();
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_RESUME' })]);
    expect(writeError).toMatchObject({ code: 'ERR_RESUME' });
  });
});
