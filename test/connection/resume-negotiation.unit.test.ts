import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  formatDescription,
  parseDescription,
  parseDescriptionLine,
} from '../../src/candidate/description.js';
import { RESUME_ICE_OPTION, resumeNegotiated } from '../../src/connection/resume-wire.js';
import {
  decodeSignalMessage,
  encodeSignalMessage,
  type SignalMessage,
} from '../../src/signalling/messages.js';
import { SdpLineSignaller } from '../../src/signalling/stdio.js';

const UFRAG = 'abcd';
const PWD = 'abcdefghijklmnopqrstuvwx';

describe('negotiating the resume protocol', () => {
  it('is on only when both sides advertised the token', () => {
    expect(resumeNegotiated([RESUME_ICE_OPTION], [RESUME_ICE_OPTION, 'trickle'])).toBe(true);
    expect(resumeNegotiated([RESUME_ICE_OPTION], undefined)).toBe(false);
    expect(resumeNegotiated([RESUME_ICE_OPTION], ['trickle'])).toBe(false);
    expect(resumeNegotiated(['trickle'], [RESUME_ICE_OPTION])).toBe(false);
  });

  it('the token is a valid RFC 8839 ice-option-tag', () => {
    expect(RESUME_ICE_OPTION).toMatch(/^[A-Za-z0-9+/]+$/);
  });
});

describe('ice-options in the SDP-line form', () => {
  it('formats trickle first, then the extra tokens, and parses them back', () => {
    const lines = formatDescription({
      ufrag: UFRAG,
      pwd: PWD,
      candidates: [],
      endOfCandidates: true,
      options: [RESUME_ICE_OPTION, 'trickle'],
    });
    expect(lines).toContain(`a=ice-options:trickle ${RESUME_ICE_OPTION}`);
    expect(parseDescription(lines).options).toEqual(['trickle', RESUME_ICE_OPTION]);
  });

  it('keeps unknown tokens, drops malformed ones, and reads an old peer as trickle only', () => {
    expect(parseDescriptionLine('a=ice-options:trickle  ice2 bad-token rtp+ecn\r')).toEqual({
      kind: 'options',
      tokens: ['trickle', 'ice2', 'rtp+ecn'],
    });
    expect(
      parseDescription(['a=ice-ufrag:abcd', `a=ice-pwd:${PWD}`, 'a=ice-options:trickle']).options,
    ).toEqual(['trickle']);
    expect(parseDescription(['a=ice-ufrag:abcd', `a=ice-pwd:${PWD}`]).options).toBeUndefined();
  });

  it('a line of thousands of tokens keeps at most 32', () => {
    const tokens = Array.from({ length: 5000 }, (_, i) => `t${i}`).join(' ');
    const parsed = parseDescriptionLine(`a=ice-options:${tokens}`);
    expect(parsed.kind === 'options' && parsed.tokens.length).toBe(32);
  });
});

describe('options in the JSON parameters message', () => {
  it('round-trip; an old peer message without options stays valid and has none', () => {
    const m: SignalMessage = { type: 'parameters', ufrag: UFRAG, pwd: PWD, options: [RESUME_ICE_OPTION] };
    expect(decodeSignalMessage(encodeSignalMessage(m))).toEqual(m);
    expect(decodeSignalMessage(JSON.stringify({ type: 'parameters', ufrag: UFRAG, pwd: PWD }))).toEqual({
      type: 'parameters',
      ufrag: UFRAG,
      pwd: PWD,
    });
  });

  it('unknown tokens pass, malformed ones are dropped, a non-array is a SignallingError', () => {
    const text = JSON.stringify({
      type: 'parameters',
      ufrag: UFRAG,
      pwd: PWD,
      options: ['future', 'no spaces!'],
    });
    expect(decodeSignalMessage(text)).toMatchObject({ options: ['future'] });
    for (const options of ['icetcp+resume', [1], { a: 1 }, null]) {
      expect(() =>
        decodeSignalMessage(JSON.stringify({ type: 'parameters', ufrag: UFRAG, pwd: PWD, options })),
      ).toThrow(expect.objectContaining({ code: 'ERR_SIGNALLING' }));
    }
  });
});

describe('options through SdpLineSignaller', () => {
  function pair(): { a: SdpLineSignaller; got: SignalMessage[]; input: PassThrough } {
    const wire = new PassThrough();
    const a = new SdpLineSignaller(new PassThrough(), wire);
    const b = new SdpLineSignaller(wire, new PassThrough());
    const got: SignalMessage[] = [];
    b.onMessage((m) => got.push(m));
    return { a, got, input: wire };
  }

  it('carries the options with the parameters', async () => {
    const { a, got } = pair();
    a.send({ type: 'parameters', ufrag: UFRAG, pwd: PWD, options: [RESUME_ICE_OPTION] });
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'parameters', ufrag: UFRAG, pwd: PWD, options: [RESUME_ICE_OPTION] }]);
  });

  it('an old peer (trickle only) gives one parameters message without options, as before', async () => {
    const { got, input } = pair();
    input.write(`a=ice-ufrag:${UFRAG}\na=ice-pwd:${PWD}\na=ice-options:trickle\n`);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'parameters', ufrag: UFRAG, pwd: PWD }]);
  });

  it('options after the credentials (the order of localDescription()) are sent once more with them', async () => {
    const { got, input } = pair();
    input.write(`a=ice-ufrag:${UFRAG}\na=ice-pwd:${PWD}\na=ice-options:trickle ${RESUME_ICE_OPTION}\n`);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([
      { type: 'parameters', ufrag: UFRAG, pwd: PWD },
      { type: 'parameters', ufrag: UFRAG, pwd: PWD, options: [RESUME_ICE_OPTION] },
    ]);
  });
});
