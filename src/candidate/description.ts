import { SignallingError } from '../errors.js';
import { formatCandidate, parseCandidate } from './sdp.js';
import type { Candidate } from './types.js';

/** What an SDP-style description carries for ICE-TCP. */
export interface IceDescription {
  ufrag?: string;
  pwd?: string;
  candidates: Candidate[];
  endOfCandidates: boolean;
}

/**
 * The `a=` lines of a description: ufrag, pwd, `ice-options:trickle`, one line per candidate and
 * `a=end-of-candidates` once gathering is complete.
 */
export function formatDescription(
  d: Required<Pick<IceDescription, 'ufrag' | 'pwd'>> & IceDescription,
): string[] {
  const lines = [`a=ice-ufrag:${d.ufrag}`, `a=ice-pwd:${d.pwd}`, 'a=ice-options:trickle'];
  for (const c of d.candidates) lines.push(`a=${formatCandidate(c)}`);
  if (d.endOfCandidates) lines.push('a=end-of-candidates');
  return lines;
}

/** One line of a description, classified. Unknown lines (other SDP) are `ignored`. */
export type DescriptionLine =
  | { kind: 'ufrag'; value: string }
  | { kind: 'pwd'; value: string }
  | { kind: 'candidate'; candidate: Candidate }
  | { kind: 'end-of-candidates' }
  | { kind: 'blank' }
  | { kind: 'ignored' };

/** Classifies one line; tolerant of CR, surrounding blanks and a missing `a=`. Bad candidates throw. */
export function parseDescriptionLine(raw: string): DescriptionLine {
  const line = raw.replace(/\r?\n?$/, '').trim();
  if (line === '') return { kind: 'blank' };
  const body = line.startsWith('a=') ? line.slice(2) : line;
  if (body.startsWith('ice-ufrag:')) return { kind: 'ufrag', value: credential(body, 'ice-ufrag:') };
  if (body.startsWith('ice-pwd:')) return { kind: 'pwd', value: credential(body, 'ice-pwd:') };
  if (body.startsWith('candidate:')) return { kind: 'candidate', candidate: parseCandidate(body) };
  if (body === 'end-of-candidates') return { kind: 'end-of-candidates' };
  return { kind: 'ignored' };
}

function credential(body: string, prefix: string): string {
  const value = body.slice(prefix.length).trim();
  if (!/^[A-Za-z0-9+/]+$/.test(value))
    throw new SignallingError(`bad ${prefix} value ${JSON.stringify(value)}`);
  return value;
}

/** Parses description lines (an array, or one string with LF or CRLF line ends). */
export function parseDescription(input: string | readonly string[]): IceDescription {
  const lines = typeof input === 'string' ? input.split(/\r?\n/) : input;
  const d: IceDescription = { candidates: [], endOfCandidates: false };
  for (const raw of lines) {
    const parsed = parseDescriptionLine(raw);
    if (parsed.kind === 'ufrag') d.ufrag = parsed.value;
    else if (parsed.kind === 'pwd') d.pwd = parsed.value;
    else if (parsed.kind === 'candidate') d.candidates.push(parsed.candidate);
    else if (parsed.kind === 'end-of-candidates') d.endOfCandidates = true;
  }
  return d;
}
