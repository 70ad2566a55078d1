import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patternChunk, Transfer } from './resume-sim.js';

/** Small enough that backpressure, ACK thresholds and delayed ACKs all happen in a short transfer. */
const WINDOW = 32 * 1024;
const MAX_WRITE = 20_000;

type Op =
  | { k: 'write'; side: 0 | 1; size: number }
  | { k: 'deliver'; pick: number; count: number }
  | { k: 'consume'; side: 0 | 1 }
  | { k: 'new-path'; killOld: boolean }
  | { k: 'switch'; side: 0 | 1 }
  | { k: 'cut'; side: 0 | 1 }
  | { k: 'tick'; ms: number }
  | { k: 'end'; side: 0 | 1 };

const side = fc.constantFrom<0 | 1>(0, 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      side,
      size: fc.integer({ min: 1, max: MAX_WRITE }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('deliver' as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('consume' as const), side }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('new-path' as const), killOld: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('switch' as const), side }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cut' as const), side }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 300 }) }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('end' as const), side }) },
);

function apply(t: Transfer, o: Op): void {
  switch (o.k) {
    case 'write':
      t.sides[o.side].write(o.size);
      break;
    case 'deliver':
      for (let i = 0; i < o.count && t.deliver(o.pick + i); i++);
      break;
    case 'consume':
      t.sides[o.side].consume();
      break;
    case 'new-path':
      if (o.killOld) t.latest.cut();
      t.newLink();
      break;
    case 'switch':
      t.switchSide(o.side);
      break;
    case 'cut':
      t.onLink[o.side].cut();
      break;
    case 'tick':
      t.timers.advance(o.ms);
      break;
    case 'end':
      t.sides[o.side].maybeEnd();
      break;
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Runs the ops, then the transfer to its end, and checks every byte arrived once and in order. */
function runTransfer(totals: [number, number], ops: Op[], readerLimit: number): Transfer {
  const t = new Transfer(totals, { window: WINDOW }, readerLimit);
  for (const o of ops) {
    apply(t, o);
    for (const s of t.sides) expect(s.stream.sendLedger.unacked).toBeLessThanOrEqual(WINDOW + MAX_WRITE);
  }
  t.finish(4096);
  for (const s of t.sides) {
    expect(s.errors).toEqual([]);
    expect(s.peerEnded).toBe(true);
    expect(s.settled).toBe(true);
    expect(s.maxUnacked).toBeLessThanOrEqual(WINDOW + MAX_WRITE);
  }
  const [a, b] = t.sides;
  // every byte was checked against the pattern as it arrived: no loss, duplicate or reordering; the hashes say
  // the same of the whole stream
  expect(a.received).toBe(totals[1]);
  expect(b.received).toBe(totals[0]);
  expect(a.hash.digest('hex')).toBe(sha256(patternChunk(1, 0, totals[1])));
  expect(b.hash.digest('hex')).toBe(sha256(patternChunk(0, 0, totals[0])));
  return t;
}

describe('resumable stream across path switches (in memory)', () => {
  it('both directions arrive whole after random switches, with the old path alive or dead', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 300_000 })),
        fc.array(op, { maxLength: 300, size: 'max' }),
        fc.integer({ min: 1, max: 64 * 1024 }),
        (totals, ops, readerLimit) => {
          runTransfer(totals, ops, readerLimit);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('survives many switches in a row, each with bytes in flight dropped on the dead path', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 30; i++) {
      ops.push({ k: 'write', side: 0, size: 15_000 }, { k: 'write', side: 1, size: 7_000 });
      ops.push({ k: 'deliver', pick: i, count: 3 });
      ops.push({ k: 'new-path', killOld: i % 2 === 0 });
      ops.push({ k: 'switch', side: (i % 2) as 0 | 1 }, { k: 'write', side: 0, size: 9_000 });
      ops.push({ k: 'deliver', pick: i * 7, count: 5 }, { k: 'switch', side: ((i + 1) % 2) as 0 | 1 });
      ops.push({ k: 'deliver', pick: i * 3, count: 30 });
    }
    const t = runTransfer([1_000_000, 400_000], ops, 1 << 20);
    expect(t.links.length).toBeGreaterThanOrEqual(31);
    // the dead paths really lost bytes, and they were sent again
    expect(t.links.reduce((n, l) => n + l.dataSent, 0)).toBeGreaterThan(1_400_000);
  });

  it('a path that dies with a full window loses nothing: the writer waits, then resends on the new path', () => {
    const t = new Transfer([200_000, 0], { window: WINDOW });
    while (!t.sides[0].writerWaiting) t.sides[0].write(10_000);
    // half of it reaches the receiver, the rest dies with the path
    for (let i = 0; i < 3; i++) t.deliver(0);
    t.latest.cut();
    while (t.deliver(0));
    expect(t.sides.map((s) => s.pathLost)).toEqual([1, 1]);
    expect(t.sides[1].received).toBeLessThan(WINDOW);
    t.finish(10_000);
    expect(t.sides[1].received).toBe(200_000);
    expect(t.sides[1].peerEnded).toBe(true);
  });
});

describe('resumable stream: the switch handshake', () => {
  it('closes the old path only once the peer has switched too (its RESUME arrived on the new path)', () => {
    const t = new Transfer([50_000, 50_000], { window: WINDOW });
    t.sides[0].write(30_000);
    t.sides[1].write(30_000);
    const old = t.latest;
    t.newLink();
    t.switchSide(0);
    while (t.deliver(0));
    // B has not switched: A keeps the old path open (B would otherwise see a reset before it could move)
    expect(old.a.closed).toBe(false);
    expect(t.sides[0].stream.switching).toBe(true);
    t.switchSide(1);
    while (t.deliver(0));
    expect(old.a.closed && old.b.closed).toBe(true);
    expect(t.sides.map((s) => s.stream.switching)).toEqual([false, false]);
    t.finish(4096);
    expect(t.sides.map((s) => s.received)).toEqual([50_000, 50_000]);
  });

  it('data or an end before the peer RESUME on a new path, or a second RESUME, is ERR_RESUME', () => {
    for (const breach of ['data', 'end', 'second-resume'] as const) {
      const t = new Transfer([10, 10], { window: WINDOW });
      t.newLink();
      t.switchSide(0);
      const peerEnd = t.latest.b;
      peerEnd.open({ data() {}, control() {}, end() {}, drain() {}, close() {}, fail() {} });
      if (breach === 'data') peerEnd.sendData(Buffer.from('early'));
      else if (breach === 'end') peerEnd.sendControl({ kind: 'end', bytes: 0 });
      else {
        peerEnd.sendControl({ kind: 'resume', bytes: 0 });
        peerEnd.sendControl({ kind: 'resume', bytes: 0 });
      }
      while (t.deliver(0));
      expect(
        t.sides[0].errors.map((e) => (e as { code?: string }).code),
        breach,
      ).toEqual(['ERR_RESUME']);
      expect(() => t.sides[0].stream.write(Buffer.from('x'))).toThrow(/destroyed/);
      expect(t.latest.a.closed).toBe(true);
      expect(t.timers.armed).toBe(0);
    }
  });

  it('a TCP FIN on the path before the stream is over loses the path (no error): the stream waits for the next', () => {
    const t = new Transfer([40_000, 0], { window: WINDOW });
    t.sides[0].write(20_000);
    t.deliver(0);
    t.latest.b.end();
    while (t.deliver(0));
    expect(t.sides[0].pathLost).toBe(1);
    expect(t.sides[0].errors).toEqual([]);
    expect(t.latest.a.closed).toBe(true);
    t.finish(4096);
    expect(t.sides[1].received).toBe(40_000);
  });

  it('a RESUME offset beyond what was sent is ERR_RESUME', () => {
    const t = new Transfer([10, 10], { window: WINDOW });
    t.newLink();
    t.switchSide(0);
    const peerEnd = t.latest.b;
    peerEnd.open({ data() {}, control() {}, end() {}, drain() {}, close() {}, fail() {} });
    peerEnd.sendControl({ kind: 'resume', bytes: 11 });
    while (t.deliver(0));
    expect(t.sides[0].errors[0]?.message).toMatch(/acknowledged 11 bytes/);
  });

  it('an idle receiver acknowledges after the delay, so a window that is not a multiple never stalls', () => {
    const t = new Transfer([1000, 0], { window: WINDOW, ackDelayMs: 100 });
    t.sides[0].write(1000);
    while (t.deliver(0));
    expect(t.sides[0].stream.sendLedger.acked).toBe(0);
    t.timers.advance(99);
    while (t.deliver(0));
    expect(t.sides[0].stream.sendLedger.acked).toBe(0);
    t.timers.advance(1);
    while (t.deliver(0));
    expect(t.sides[0].stream.sendLedger.acked).toBe(1000);
    expect(t.timers.armed).toBe(0);
  });
});
