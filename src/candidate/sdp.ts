import { CandidateParseError, InvalidArgumentError } from '../errors.js';
import {
  canonicalIp,
  FOUNDATION_PATTERN,
  isCandidateType,
  isExtensionName,
  isExtensionValue,
  isIntegerIn,
  isTcpType,
  MAX_PRIORITY,
  parseDecimal,
} from './fields.js';
import type { Candidate, TcpType } from './types.js';

/** RFC 6544 §4.5: active candidates are advertised with the discard port. */
const ACTIVE_PORT = 9;

/** Names the parser owns; as free extensions they would be read back as something else. */
const RESERVED_EXTENSIONS: ReadonlySet<string> = new Set(['raddr', 'rport', 'tcptype']);

/**
 * Longest candidate line accepted (characters, prefix and line ending included). Real lines stay under 200;
 * the bound keeps a peer's line from costing more than a fixed amount of work and memory.
 */
export const MAX_CANDIDATE_LINE = 1024;

/** The tokens of a line, without prefix or line ending; tolerant of what signalling channels add. */
function tokenize(line: string): string[] {
  if (line.length > MAX_CANDIDATE_LINE) {
    const head = `${line.slice(0, 64)}...`;
    throw new CandidateParseError('line', `longer than ${MAX_CANDIDATE_LINE} characters`, head);
  }
  // one pass, no regex: runs of blanks cost linear time whatever their length
  const tokens: string[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const c = line.charCodeAt(i);
    const blank =
      Number.isNaN(c) || c === 0x20 || c === 0x09 || ((c === 0x0d || c === 0x0a) && isLineEnd(line, i));
    if (!blank) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      tokens.push(line.slice(start, i));
      start = -1;
    }
  }
  let first = tokens[0];
  if (first?.startsWith('a=')) first = first.slice(2);
  if (first?.startsWith('candidate:')) first = first.slice('candidate:'.length);
  if (first === undefined || (first === '' && tokens.length === 1))
    throw new CandidateParseError('line', 'empty', line);
  if (first === '') throw new CandidateParseError('foundation', 'missing', line);
  tokens[0] = first;
  return tokens;
}

/** A CR or LF that belongs to the trailing line ending (CR, LF or CRLF), not to the body. */
function isLineEnd(line: string, i: number): boolean {
  const rest = line.length - i;
  return rest === 1 || (rest === 2 && line.charCodeAt(i) === 0x0d && line.charCodeAt(i + 1) === 0x0a);
}

/**
 * Parse an `a=candidate` line (RFC 8839 §5.1 with RFC 6544 §4.5 `tcptype`). The `a=` and
 * `candidate:` prefixes and a trailing CR/CRLF are optional. Only TCP candidates are accepted.
 * Throws {@link CandidateParseError} whose `token` names the offending field.
 */
export function parseCandidate(line: string): Candidate {
  const tokens = tokenize(line);
  const field = (index: number, name: string): string => {
    const token = tokens[index];
    if (token === undefined) throw new CandidateParseError(name, 'missing', line);
    return token;
  };
  const fail: (name: string, detail: string) => never = (name, detail) => {
    throw new CandidateParseError(name, detail, line);
  };

  const foundation = field(0, 'foundation');
  if (!FOUNDATION_PATTERN.test(foundation)) fail('foundation', `not 1..32 ice-chars: ${foundation}`);

  const component = parseDecimal(field(1, 'component'));
  if (component === undefined || !isIntegerIn(component, 1, 256))
    fail('component', 'not an integer in 1..256');

  const transport = field(2, 'transport');
  if (transport.toUpperCase() !== 'TCP') fail('transport', `${transport} is not TCP`);

  const priority = parseDecimal(field(3, 'priority'));
  if (priority === undefined || !isIntegerIn(priority, 1, MAX_PRIORITY)) {
    fail('priority', `not an integer in 1..${MAX_PRIORITY}`);
  }

  const address = canonicalIp(field(4, 'address')) ?? fail('address', 'not a numeric IPv4 or IPv6 address');

  const port = parseDecimal(field(5, 'port'));
  if (port === undefined || !isIntegerIn(port, 0, 65535)) fail('port', 'not an integer in 0..65535');

  if (field(6, 'typ') !== 'typ') fail('typ', 'expected the keyword typ');

  const type = field(7, 'type');
  if (!isCandidateType(type)) fail('type', `unknown candidate type ${type}`);

  const candidate: Candidate = {
    foundation,
    component,
    transport: 'TCP',
    priority,
    address,
    port,
    type,
    tcpType: 'active',
    extensions: [],
  };
  let tcpType: TcpType | undefined;
  for (let i = 8; i < tokens.length; i += 2) {
    const name = tokens[i] as string;
    const value = tokens[i + 1];
    const text: string = value ?? fail('extension', `${name} has no value`);
    if (name === 'raddr') {
      if (candidate.relatedAddress !== undefined) fail('raddr', 'given twice');
      candidate.relatedAddress = canonicalIp(text) ?? fail('raddr', 'not a numeric IPv4 or IPv6 address');
    } else if (name === 'rport') {
      const relatedPort = parseDecimal(text);
      if (candidate.relatedPort !== undefined) fail('rport', 'given twice');
      if (relatedPort === undefined || !isIntegerIn(relatedPort, 0, 65535)) {
        fail('rport', 'not an integer in 0..65535');
      }
      candidate.relatedPort = relatedPort;
    } else if (name === 'tcptype') {
      if (tcpType !== undefined) fail('tcptype', 'given twice');
      if (!isTcpType(text)) fail('tcptype', `unknown tcptype ${text}`);
      tcpType = text;
    } else {
      if (!isExtensionName(name)) fail('extension', `bad extension name ${JSON.stringify(name)}`);
      if (!isExtensionValue(text)) fail('extension', `bad value for ${name}`);
      candidate.extensions.push([name, text]);
    }
  }
  candidate.tcpType = tcpType ?? fail('tcptype', 'missing (required for TCP candidates, RFC 6544 §4.5)');
  return candidate;
}

/** Throw unless the candidate can be written as a line that parses back to itself. */
function assertFormattable(c: Candidate): void {
  const bad: (detail: string) => never = (detail) => {
    throw new InvalidArgumentError(`cannot format candidate: ${detail}`);
  };
  if (!FOUNDATION_PATTERN.test(c.foundation)) bad(`foundation ${JSON.stringify(c.foundation)}`);
  if (!isIntegerIn(c.component, 1, 256)) bad(`component ${c.component}`);
  if (!isIntegerIn(c.priority, 1, MAX_PRIORITY)) bad(`priority ${c.priority}`);
  if (!isIntegerIn(c.port, 0, 65535)) bad(`port ${c.port}`);
  if (!isCandidateType(c.type)) bad(`type ${c.type}`);
  if (!isTcpType(c.tcpType)) bad(`tcpType ${c.tcpType}`);
  if (c.relatedPort !== undefined && !isIntegerIn(c.relatedPort, 0, 65535)) bad(`rport ${c.relatedPort}`);
  for (const [name, value] of c.extensions) {
    if (!isExtensionName(name) || RESERVED_EXTENSIONS.has(name))
      bad(`extension name ${JSON.stringify(name)}`);
    if (!isExtensionValue(value)) bad(`extension value ${JSON.stringify(value)}`);
  }
}

/**
 * Write a candidate as `candidate:...` (no `a=`, no line ending), single spaces, canonical
 * addresses, `tcptype` right after `raddr`/`rport`, and port 9 for active candidates.
 * Throws {@link InvalidArgumentError} for a candidate no parser could read back.
 */
export function formatCandidate(c: Candidate): string {
  assertFormattable(c);
  const address = canonicalIp(c.address);
  if (address === undefined) throw new InvalidArgumentError(`cannot format candidate: address ${c.address}`);
  const port = c.tcpType === 'active' ? ACTIVE_PORT : c.port;
  const parts = [`candidate:${c.foundation}`, c.component, 'TCP', c.priority, address, port, 'typ', c.type];
  if (c.relatedAddress !== undefined) {
    const related = canonicalIp(c.relatedAddress);
    if (related === undefined)
      throw new InvalidArgumentError(`cannot format candidate: raddr ${c.relatedAddress}`);
    parts.push('raddr', related);
  }
  if (c.relatedPort !== undefined) parts.push('rport', c.relatedPort);
  parts.push('tcptype', c.tcpType);
  for (const [name, value] of c.extensions) parts.push(name, value);
  return parts.join(' ');
}

/** {@link formatCandidate} as an SDP attribute line: `a=candidate:...`. */
export function formatCandidateAttribute(c: Candidate): string {
  return `a=${formatCandidate(c)}`;
}
