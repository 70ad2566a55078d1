import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatDescription } from '../../src/candidate/description.js';
import {
  decodeSignalMessage,
  encodeSignalMessage,
  parseDescription,
  SdpLineSignaller,
  type SignalMessage,
} from '../../src/signalling/index.js';

const PWD = 'abcdefghijklmnopqrstuvwx';

describe('a=ice-lite and the lite flag in signalling', () => {
  it('the description form carries a=ice-lite both ways; its absence is a full agent', () => {
    const lines = formatDescription({
      ufrag: 'abcd',
      pwd: PWD,
      candidates: [],
      endOfCandidates: true,
      lite: true,
    });
    expect(lines).toContain('a=ice-lite');
    expect(parseDescription(lines).lite).toBe(true);
    expect(parseDescription(['a=ice-ufrag:abcd', `a=ice-pwd:${PWD}`]).lite).toBeUndefined();
  });

  it('the JSON parameters message keeps lite; old messages without it stay valid; a non-boolean is refused', () => {
    const m: SignalMessage = { type: 'parameters', ufrag: 'abcd', pwd: PWD, lite: true };
    expect(decodeSignalMessage(encodeSignalMessage(m))).toEqual(m);
    expect(decodeSignalMessage(`{"type":"parameters","ufrag":"abcd","pwd":"${PWD}"}`)).toEqual({
      type: 'parameters',
      ufrag: 'abcd',
      pwd: PWD,
    });
    expect(
      decodeSignalMessage(`{"type":"parameters","ufrag":"abcd","pwd":"${PWD}","lite":false}`),
    ).not.toHaveProperty('lite');
    expect(() =>
      decodeSignalMessage(`{"type":"parameters","ufrag":"abcd","pwd":"${PWD}","lite":"yes"}`),
    ).toThrow(expect.objectContaining({ code: 'ERR_SIGNALLING' }));
  });

  it('SdpLineSignaller writes a=ice-lite before the credentials and reads it back into the parameters', async () => {
    const wire = new PassThrough();
    const writer = new SdpLineSignaller(new PassThrough(), wire);
    writer.send({ type: 'parameters', ufrag: 'abcd', pwd: PWD, lite: true });
    writer.send({ type: 'end-of-candidates' });
    const text = String(wire.read());
    expect(text.indexOf('a=ice-lite')).toBeLessThan(text.indexOf('a=ice-ufrag'));
    const reader = new SdpLineSignaller(new PassThrough().end(text), new PassThrough());
    const got: SignalMessage[] = [];
    reader.onMessage((msg) => got.push(msg));
    await new Promise((r) => setImmediate(r));
    expect(got[0]).toEqual({ type: 'parameters', ufrag: 'abcd', pwd: PWD, lite: true });
  });
});
