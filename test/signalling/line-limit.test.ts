import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SignallingError } from '../../src/errors.js';
import type { SignalMessage } from '../../src/signalling/messages.js';
import { MAX_SIGNAL_LINE, SdpLineSignaller } from '../../src/signalling/stdio.js';

const LINE = 'candidate:1 1 TCP 2128609279 192.0.2.10 40000 typ host tcptype passive';

function codes(errors: unknown[]): unknown[] {
  return errors.map((e) => (e as { code?: unknown }).code);
}

function collect(s: SdpLineSignaller): SignalMessage[] {
  const got: SignalMessage[] = [];
  s.onMessage((m) => got.push(m));
  return got;
}

/** A PassThrough hands data on in nextTicks only: once a macrotask turn has passed, every line was read. */
const tick = () => new Promise((r) => setImmediate(r));

/** Issue 8 item 14: a line-based signaller buffered a line without end, however long it grew. */
describe('SdpLineSignaller line-length limit', () => {
  it('reports an overlong line before its end arrives, skips it and reads on', async () => {
    const input = new PassThrough();
    const errors: unknown[] = [];
    const s = new SdpLineSignaller(input, new PassThrough(), (e) => errors.push(e));
    const got = collect(s);
    input.write('a=ice-ufrag:abcd\n');
    for (let i = 0; i < 16; i++) input.write('x'.repeat(4096));
    await tick();
    expect(codes(errors)).toEqual(['ERR_SIGNALLING']);
    expect(errors[0]).toBeInstanceOf(SignallingError);
    expect((errors[0] as Error).message).toContain(String(MAX_SIGNAL_LINE));
    input.write(
      `${'y'.repeat(1000)}\na=ice-pwd:abcdefghijklmnopqrstuvwx\na=${LINE}\r\na=end-of-candidates\n`,
    );
    await tick();
    expect(codes(errors)).toEqual(['ERR_SIGNALLING']);
    expect(got).toEqual([
      { type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' },
      { type: 'candidate', candidate: LINE },
      { type: 'end-of-candidates' },
    ]);
  });

  it('takes a configurable limit, and a line split over many chunks and a multi-byte character', async () => {
    const input = new PassThrough();
    const errors: unknown[] = [];
    const s = new SdpLineSignaller(input, new PassThrough(), (e) => errors.push(e), { maxLineLength: 100 });
    const got = collect(s);
    const ufrag = Buffer.from('a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\na=x-note:é\n');
    for (const byte of ufrag) input.write(Buffer.from([byte]));
    input.write(`a=${LINE} x-pad ${'p'.repeat(100)}\n`);
    input.end();
    await tick();
    expect(codes(errors)).toEqual(['ERR_SIGNALLING']);
    expect(got).toEqual([
      { type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' },
      { type: 'end-of-candidates' },
    ]);
  });
});
