import { describe, expect, it } from 'vitest';
import { type PathHandlers, ResumableStream, type ResumePath } from '../../src/connection/resumable.js';
import type { ResumeControl } from '../../src/connection/resume-wire.js';
import { FakeTimers } from './resume-sim.js';

/** A path that records what the stream sends on it; the test plays the peer through its handlers. */
class RecordingPath implements ResumePath {
  handlers: PathHandlers | undefined;
  readonly controls: ResumeControl[] = [];
  open(handlers: PathHandlers): void {
    this.handlers = handlers;
  }
  sendData(): boolean {
    return true;
  }
  sendControl(control: ResumeControl): void {
    this.controls.push(control);
  }
  pause(): void {}
  resume(): void {}
  close(): void {}
}

/** FakeTimers that count clock reads. */
class CountingTimers extends FakeTimers {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

// The receive path runs once per chunk a socket read hands over (tens of thousands per GB): its
// acknowledgement bookkeeping must not read the clock per chunk, only when an ACK cycle starts.
describe('ResumableStream receive path: acknowledgement cost', () => {
  it('reads the clock once per ACK cycle, not per chunk, and still acknowledges by bytes and by delay', () => {
    const timers = new CountingTimers();
    const path = new RecordingPath();
    const got: number[] = [];
    const stream = new ResumableStream({ data: (c) => got.push(c.length) > 0, end: () => {} }, path, {
      window: 4 * 100_000,
      ackEveryBytes: 100_000,
      timers,
    });
    const handlers = path.handlers as PathHandlers;
    const chunk = Buffer.alloc(1000);
    for (let i = 0; i < 1000; i++) handlers.data(chunk); // 1,000,000 bytes: 10 ACKs by the 100,000-byte rule
    const acks = path.controls.filter((c) => c.kind === 'ack').map((c) => c.bytes);
    expect(acks).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 100_000));
    expect(timers.reads).toBeLessThanOrEqual(2 * acks.length + 2);
    // a remainder below the threshold is acknowledged after the delay, by the timer armed for it
    for (let i = 0; i < 10; i++) handlers.data(chunk);
    expect(path.controls).toHaveLength(10);
    timers.advance(100);
    expect(path.controls.at(-1)).toEqual({ kind: 'ack', bytes: 1_010_000 });
    expect(got).toHaveLength(1010);
    stream.destroy();
    expect(timers.armed).toBe(0);
  });

  it('by default acknowledges every 4 MiB, a quarter of a 16 MiB window: each ACK wakes the sender', () => {
    const timers = new FakeTimers();
    const path = new RecordingPath();
    const stream = new ResumableStream({ data: () => true, end: () => {} }, path, { timers });
    const handlers = path.handlers as PathHandlers;
    const chunk = Buffer.alloc(64 * 1024);
    expect(stream.sendLedger.window).toBe(16 * 1024 * 1024);
    for (let received = 0; received < 16 * 1024 * 1024; received += chunk.length) handlers.data(chunk);
    expect(path.controls.map((c) => c.bytes)).toEqual([1, 2, 3, 4].map((i) => i * 4 * 1024 * 1024));
    stream.destroy();
  });
});
