import { describe, expect, it } from 'vitest';
import { ReceiveLedger, SendLedger } from '../../src/connection/resume-ledger.js';
import { IceTcpError } from '../../src/errors.js';

function bytes(text: string): Buffer {
  return Buffer.from(text);
}

function joined(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString();
}

describe('SendLedger', () => {
  it('keeps chunks by reference until acknowledged, and frees whole chunks only', () => {
    const l = new SendLedger(100);
    const a = bytes('hello');
    l.record(a);
    l.record(bytes(' world'));
    expect([l.sent, l.acked, l.unacked]).toEqual([11, 0, 11]);
    l.onAck(3);
    expect(l.unacked).toBe(8);
    const resend = l.resendFrom(3);
    expect(joined(resend)).toBe('lo world');
    // a view of the written buffer, not a copy
    expect(resend[0]?.buffer).toBe(a.buffer);
    l.onAck(11);
    expect(l.resendFrom(11)).toEqual([]);
  });

  it('resends from any offset inside a chunk, across many chunks', () => {
    const l = new SendLedger(1 << 20);
    let all = '';
    for (let i = 0; i < 50; i++) {
      const piece = `${i}:${'x'.repeat(i % 7)};`;
      l.record(bytes(piece));
      all += piece;
    }
    for (const n of [0, 1, 2, 17, 100, all.length - 1, all.length]) {
      const fresh = new SendLedger(1 << 20);
      for (const c of l.resendFrom(0)) fresh.record(c);
      expect(joined(fresh.resendFrom(n))).toBe(all.slice(n));
    }
  });

  it('an offset beyond what was sent or below the last acknowledgement is a typed protocol error', () => {
    const l = new SendLedger(100);
    l.record(bytes('0123456789'));
    l.onAck(5);
    for (const bad of [11, 4, -1, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        l.resendFrom(bad);
      } catch (e) {
        error = e;
      }
      expect(error, String(bad)).toBeInstanceOf(IceTcpError);
      expect((error as IceTcpError).code).toBe('ERR_RESUME');
      expect(() => l.onAck(bad)).toThrow(/acknowledged/);
    }
    // nothing changed by the refused offsets
    expect(joined(l.resendFrom(5))).toBe('56789');
  });

  it('says full at the window, and not once an acknowledgement frees room', () => {
    const l = new SendLedger(10);
    l.record(bytes('123456'));
    expect(l.full).toBe(false);
    l.record(bytes('7890'));
    expect(l.full).toBe(true);
    l.onAck(1);
    expect(l.full).toBe(false);
  });

  it('the end counts as one unit after the last byte: settled once it is acknowledged too', () => {
    const l = new SendLedger(10);
    l.record(bytes('abc'));
    expect(() => l.onAck(4)).toThrow(/acknowledged 4/);
    l.markEnd();
    expect(() => l.record(bytes('d'))).toThrow(/after the stream ended/);
    l.onAck(3);
    expect(l.settled).toBe(false);
    expect(l.endNeeded(3)).toBe(true);
    expect(l.resendFrom(3)).toEqual([]);
    l.onAck(4);
    expect([l.settled, l.endNeeded(4), l.unacked]).toEqual([true, false, 0]);
  });

  it('compacts its queue: a long stream of small acknowledged chunks leaves nothing behind', () => {
    const l = new SendLedger(1 << 20);
    for (let i = 0; i < 100_000; i++) {
      l.record(bytes('ab'));
      l.onAck(l.sent);
    }
    expect(l.unacked).toBe(0);
    expect((l as unknown as { chunks: Buffer[] }).chunks.length).toBeLessThan(3000);
  });

  it('rejects a window that is not a positive integer', () => {
    expect(() => new SendLedger(0)).toThrow(/resume window/);
  });
});

describe('ReceiveLedger', () => {
  it('an ACK is due every ackEveryBytes', () => {
    const r = new ReceiveLedger(100, 50);
    r.onData(60, 0);
    expect(r.ackDue(0)).toBe(false);
    r.onData(40, 1);
    expect(r.ackDue(1)).toBe(true);
    expect(r.takeAck()).toBe(100);
    expect(r.ackDue(1)).toBe(false);
  });

  it('a lone unacknowledged byte is acknowledged after the delay, timed from its arrival', () => {
    const r = new ReceiveLedger(100, 50);
    expect(r.nextAckAt()).toBeUndefined();
    r.onData(1, 10);
    r.onData(1, 40);
    expect(r.nextAckAt()).toBe(60);
    expect(r.ackDue(59)).toBe(false);
    expect(r.ackDue(60)).toBe(true);
    expect(r.takeAck()).toBe(2);
    expect(r.nextAckAt()).toBeUndefined();
  });
});
