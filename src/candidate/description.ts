import { SignallingError } from '../errors.js';
import { NAT_ATTRIBUTE, parseNatLineValue } from './nat-profile.js';
import { formatCandidate, parseCandidate } from './sdp.js';
import type { Candidate } from './types.js';

/** What an SDP-style description carries for ICE-TCP. */
export interface IceDescription {
  ufrag?: string;
  pwd?: string;
  candidates: Candidate[];
  endOfCandidates: boolean;
  /** ICE option tokens of `a=ice-options` (RFC 8839 §5.6), e.g. `trickle`; unknown ones are kept, not acted on. */
  options?: string[];
  /** `a=ice-lite` (RFC 8839 §5.3): the side is an ice-lite agent (RFC 8445 §2.5). */
  lite?: boolean;
  /** `a=x-ice-tcp-nat` tokens: the side's measured NAT behaviour (candidate/nat-profile.ts). */
  nat?: string[];
}

/** RFC 8839 ice-option-tag: 1*ice-char. A token that is not one is dropped (an odd peer's line stays usable). */
const ICE_OPTION_TAG = /^[A-Za-z0-9+/]{1,64}$/;
/** More tokens than any peer sends; the rest of a longer line is ignored. */
const MAX_ICE_OPTIONS = 32;

/** The valid ice-option-tags among `candidates`, deduplicated, in order, at most 32. */
export function iceOptionTags(candidates: readonly string[]): string[] {
  const tokens = new Set<string>();
  for (const t of candidates) {
    if (tokens.size === MAX_ICE_OPTIONS) break;
    if (ICE_OPTION_TAG.test(t)) tokens.add(t);
  }
  return [...tokens];
}

/** The tokens of an `ice-options` value (see {@link iceOptionTags}). */
export function parseIceOptions(value: string): string[] {
  return iceOptionTags(value.split(/[ \t]+/));
}

/** The `a=ice-options` line: `trickle` first, then `extra` (deduplicated). */
export function formatIceOptions(extra: readonly string[] = []): string {
  return `a=ice-options:${[...new Set(['trickle', ...extra])].join(' ')}`;
}

/**
 * The `a=` lines of a description: ufrag, pwd, `ice-options:trickle` (plus `d.options`), one line per
 * candidate and `a=end-of-candidates` once gathering is complete.
 */
export function formatDescription(
  d: Required<Pick<IceDescription, 'ufrag' | 'pwd'>> & IceDescription,
): string[] {
  const lines = [`a=ice-ufrag:${d.ufrag}`, `a=ice-pwd:${d.pwd}`, formatIceOptions(d.options)];
  if (d.lite) lines.push('a=ice-lite');
  for (const c of d.candidates) lines.push(`a=${formatCandidate(c)}`);
  if (d.endOfCandidates) lines.push('a=end-of-candidates');
  return lines;
}

/** One line of a description, classified. Unknown lines (other SDP) are `ignored`. */
export type DescriptionLine =
  | { kind: 'ufrag'; value: string }
  | { kind: 'pwd'; value: string }
  | { kind: 'options'; tokens: string[] }
  | { kind: 'lite' }
  | { kind: 'nat'; tokens: string[] }
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
  if (body.startsWith('ice-options:')) {
    return { kind: 'options', tokens: parseIceOptions(body.slice('ice-options:'.length)) };
  }
  if (body === 'ice-lite') return { kind: 'lite' };
  if (body.startsWith(`${NAT_ATTRIBUTE}:`))
    return { kind: 'nat', tokens: parseNatLineValue(body.slice(NAT_ATTRIBUTE.length + 1)) };
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
    else if (parsed.kind === 'options') d.options = parsed.tokens;
    else if (parsed.kind === 'lite') d.lite = true;
    else if (parsed.kind === 'nat') d.nat = parsed.tokens;
    else if (parsed.kind === 'candidate') d.candidates.push(parsed.candidate);
    else if (parsed.kind === 'end-of-candidates') d.endOfCandidates = true;
  }
  return d;
}
