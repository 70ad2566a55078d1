import { describe, expect, it } from 'vitest';
import { parseDescription } from '../../src/candidate/description.js';
import { MAX_CANDIDATE_LINE, parseCandidate } from '../../src/candidate/sdp.js';
import { CandidateParseError } from '../../src/errors.js';

const LINE = 'candidate:1 1 TCP 2128609279 192.0.2.10 40000 typ host tcptype passive';

/**
 * Issue 8 item 14: an 80 KB run of whitespace inside a candidate line blocked the event loop for seconds
 * (the trim regex backtracks quadratically). The per-test timeout is a hang guard, not a benchmark.
 */
describe('candidate lines from a hostile peer', () => {
  it('an 80 KB whitespace run in a line is refused at once', { timeout: 2000 }, () => {
    for (const line of [
      `${LINE.replace(' typ', `${' '.repeat(80_000)}x typ`)}`,
      `a=candidate:1${' \t'.repeat(40_000)}1`,
      `${' '.repeat(80_000)}${LINE}${' '.repeat(80_000)}x`,
    ]) {
      expect(() => parseCandidate(line)).toThrow(CandidateParseError);
      expect(() => parseDescription([line, `a=${line}`, line])).toThrow(CandidateParseError);
    }
  });

  it(`refuses a line longer than ${MAX_CANDIDATE_LINE} characters with a short message`, () => {
    const long = `${LINE} x-pad ${'a'.repeat(MAX_CANDIDATE_LINE)}`;
    let error: unknown;
    try {
      parseCandidate(long);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CandidateParseError);
    expect(error).toMatchObject({ token: 'line' });
    expect((error as Error).message.length).toBeLessThan(300);
  });

  it('still reads a line at the limit, and tolerates runs of blanks, tabs and CRLF below it', () => {
    const pad = MAX_CANDIDATE_LINE - LINE.length - ' x-pad '.length;
    expect(parseCandidate(`${LINE} x-pad ${'a'.repeat(pad)}`).extensions).toHaveLength(1);
    const spaced = ` \t a=${LINE.replaceAll(' ', ' \t  ')} \t\r\n`;
    expect(parseCandidate(spaced)).toMatchObject({ address: '192.0.2.10', port: 40000, tcpType: 'passive' });
    expect(() => parseCandidate(' \t\r\n')).toThrow(CandidateParseError);
  });

  it('parses a maximal whitespace-only line quickly (linear scan)', { timeout: 2000 }, () => {
    const line = ' \t'.repeat(MAX_CANDIDATE_LINE / 2);
    for (let i = 0; i < 2000; i++) expect(() => parseCandidate(`${line}x`)).toThrow(CandidateParseError);
  });
});
