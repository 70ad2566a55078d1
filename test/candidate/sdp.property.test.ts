import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCandidate, parseCandidate } from '../../src/candidate/sdp.js';
import type { Candidate } from '../../src/candidate/types.js';
import { CandidateParseError } from '../../src/errors.js';

const VALID_LINES = [
  'a=candidate:1 1 TCP 1015022079 192.0.2.10 9 typ host tcptype active',
  'a=candidate:2 1 TCP 1010827775 192.0.2.10 42117 typ host tcptype passive',
  'candidate:5 1 TCP 847249663 203.0.113.5 42117 typ srflx raddr 192.0.2.10 rport 42117 tcptype so generation 0',
  'candidate:Ab+/ 2 tcp 7 2001:db8::10 9 typ relay raddr fe80::1 rport 9 tcptype active network-id 1 ufrag abcd\r\n',
  '7 1 TCP 838860287 ::ffff:203.0.113.7 40000 typ prflx tcptype passive x-ice-tcp-predicted preserve\r',
];

/** Characters that matter to the grammar, so mutations hit interesting cases often. */
const interesting = fc.constantFrom(
  ' ',
  '\t',
  '\r',
  '\n',
  ':',
  '.',
  '%',
  '[',
  ']',
  '0',
  '9',
  'a',
  'Z',
  '+',
  '/',
  '-',
  '\0',
);

const edit = fc.record({
  at: fc.nat(),
  remove: fc.nat({ max: 6 }),
  insert: fc.string({ maxLength: 5, unit: fc.oneof(interesting, fc.string({ minLength: 1, maxLength: 1 })) }),
});

const mutatedLine = fc
  .tuple(fc.constantFrom(...VALID_LINES), fc.array(edit, { maxLength: 4 }))
  .map(([line, edits]) => {
    let out = line;
    for (const { at, remove, insert } of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + insert + out.slice(i + remove);
    }
    return out;
  });

const anyLine = fc.oneof(
  { weight: 3, arbitrary: mutatedLine },
  { weight: 1, arbitrary: fc.string({ maxLength: 120 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }) },
);

/** What a parsed candidate must read back as once formatted (format writes port 9 for active). */
function asWritten(c: Candidate): Candidate {
  return c.tcpType === 'active' ? { ...c, port: 9 } : c;
}

describe('parseCandidate on arbitrary input', () => {
  it('returns a Candidate or throws CandidateParseError, and its formatting is clean and stable', () => {
    let parsed = 0;
    fc.assert(
      fc.property(anyLine, (line) => {
        let c: Candidate;
        try {
          c = parseCandidate(line);
        } catch (error) {
          if (!(error instanceof CandidateParseError)) throw error;
          return;
        }
        parsed += 1;
        const text = formatCandidate(c);
        // Plain checks: expect() in 100,000 runs costs more than the parser itself.
        if (text.includes('  ') || /[\r\n\t]/.test(text))
          throw new Error(`unclean output ${JSON.stringify(text)}`);
        if (!isDeepStrictEqual(parseCandidate(text), asWritten(c)))
          throw new Error(`no round trip for ${text}`);
      }),
      { numRuns: 100_000 },
    );
    // Guards against a generator that never produces a parsable line.
    expect(parsed).toBeGreaterThan(1000);
  });
});
