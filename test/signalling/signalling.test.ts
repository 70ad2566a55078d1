import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createInMemorySignallerPair,
  decodeSignalMessage,
  encodeSignalMessage,
  parseDescription,
  SdpLineSignaller,
  type SignalMessage,
} from '../../src/signalling/index.js';

const LINE = 'candidate:1 1 TCP 2128609279 192.0.2.10 40000 typ host tcptype passive';

/** A PassThrough hands data on in nextTicks only: once a macrotask turn has passed, every line was read. */
const drained = () => new Promise((r) => setImmediate(r));

function collect(s: { onMessage(h: (m: SignalMessage) => void): () => void }): SignalMessage[] {
  const got: SignalMessage[] = [];
  s.onMessage((m) => got.push(m));
  return got;
}

describe('signal messages', () => {
  it('round-trip through JSON', () => {
    const messages: SignalMessage[] = [
      { type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' },
      { type: 'candidate', candidate: LINE },
      { type: 'end-of-candidates' },
    ];
    for (const m of messages) expect(decodeSignalMessage(encodeSignalMessage(m))).toEqual(m);
  });

  it('reject anything else with ERR_SIGNALLING', () => {
    for (const bad of [
      'nope',
      '{}',
      '{"type":"parameters","ufrag":1}',
      '{"type":"candidate"}',
      'null',
      '[]',
    ]) {
      expect(() => decodeSignalMessage(bad)).toThrow(expect.objectContaining({ code: 'ERR_SIGNALLING' }));
    }
  });
});

describe('in-memory signaller pair', () => {
  it('delivers in order, asynchronously, and keeps messages sent before the handler exists', async () => {
    const [a, b] = createInMemorySignallerPair();
    a.send({ type: 'candidate', candidate: '1' });
    a.send({ type: 'candidate', candidate: '2' });
    await new Promise((r) => setImmediate(r));
    const got = collect(b);
    a.send({ type: 'end-of-candidates' });
    expect(got.map((m) => m.type)).toEqual(['candidate', 'candidate']);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([
      { type: 'candidate', candidate: '1' },
      { type: 'candidate', candidate: '2' },
      { type: 'end-of-candidates' },
    ]);
  });
});

describe('SDP lines over streams', () => {
  it('writes the copy-paste format', () => {
    const out = new PassThrough();
    const s = new SdpLineSignaller(new PassThrough(), out);
    s.send({ type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' });
    s.send({ type: 'candidate', candidate: LINE });
    s.send({ type: 'end-of-candidates' });
    expect(out.read().toString()).toBe(
      `a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\na=${LINE}\na=end-of-candidates\n\n`,
    );
  });

  it('reads CRLF lines, missing a=, ignores other SDP and stops at a blank line', async () => {
    const input = new PassThrough();
    const s = new SdpLineSignaller(input, new PassThrough());
    const got = collect(s);
    input.write('v=0\r\n\r\nice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n');
    input.write(`${LINE}\r\n\r\n`);
    input.write(`a=${LINE.replace('40000', '40001')}\n`);
    await drained();
    expect(got).toEqual([
      { type: 'parameters', ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' },
      { type: 'candidate', candidate: LINE },
      { type: 'end-of-candidates' },
    ]);
  });

  it('reports a bad candidate line and keeps reading', async () => {
    const input = new PassThrough();
    const errors: unknown[] = [];
    const s = new SdpLineSignaller(input, new PassThrough(), (e) => errors.push(e));
    const got = collect(s);
    input.write('a=candidate:1 1 TCP 1 192.0.2.1 notaport typ host tcptype so\na=end-of-candidates\n');
    await drained();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_CANDIDATE_PARSE' });
    expect(got).toEqual([{ type: 'end-of-candidates' }]);
  });
});

describe('descriptions', () => {
  it('parse ufrag, pwd, candidates and end-of-candidates from a CRLF string', () => {
    const d = parseDescription(
      `a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\na=${LINE}\r\na=end-of-candidates\r\n`,
    );
    expect(d.ufrag).toBe('abcd');
    expect(d.pwd).toBe('abcdefghijklmnopqrstuvwx');
    expect(d.candidates).toHaveLength(1);
    expect(d.candidates[0]).toMatchObject({ address: '192.0.2.10', port: 40000, tcpType: 'passive' });
    expect(d.endOfCandidates).toBe(true);
  });
});
