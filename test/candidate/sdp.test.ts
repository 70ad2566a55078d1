import { describe, expect, it } from 'vitest';
import { formatCandidate, formatCandidateAttribute, parseCandidate } from '../../src/candidate/sdp.js';
import type { Candidate, CandidateType, TcpType } from '../../src/candidate/types.js';
import { CandidateParseError, InvalidArgumentError } from '../../src/errors.js';

const TYPES: CandidateType[] = ['host', 'srflx', 'prflx', 'relay'];
const TCP_TYPES: TcpType[] = ['active', 'passive', 'so'];
const FAMILIES = [
  { address: '192.0.2.10', related: '10.0.0.2' },
  { address: '2001:db8::10', related: 'fe80::1' },
];

function sample(type: CandidateType, tcpType: TcpType, address: string, related: string): Candidate {
  const c: Candidate = {
    foundation: 'a+/Z9',
    component: 1,
    transport: 'TCP',
    priority: 1_694_498_815,
    address,
    port: tcpType === 'active' ? 9 : 40_123,
    type,
    tcpType,
    extensions: [],
  };
  if (type !== 'host') {
    c.relatedAddress = related;
    c.relatedPort = tcpType === 'active' ? 9 : 50_000;
  }
  return c;
}

function canonicalLine(c: Candidate): string {
  const rel = c.relatedAddress === undefined ? '' : ` raddr ${c.relatedAddress} rport ${c.relatedPort}`;
  return `candidate:${c.foundation} 1 TCP ${c.priority} ${c.address} ${c.port} typ ${c.type}${rel} tcptype ${c.tcpType}`;
}

function parseError(line: string): CandidateParseError {
  try {
    parseCandidate(line);
  } catch (error) {
    expect(error).toBeInstanceOf(CandidateParseError);
    return error as CandidateParseError;
  }
  throw new Error(`parsed without error: ${line}`);
}

describe('parseCandidate / formatCandidate round trips', () => {
  for (const type of TYPES) {
    for (const tcpType of TCP_TYPES) {
      for (const { address, related } of FAMILIES) {
        const c = sample(type, tcpType, address, related);
        const line = canonicalLine(c);
        it(`${type} ${tcpType} ${address}`, () => {
          expect(formatCandidate(c)).toBe(line);
          expect(parseCandidate(formatCandidate(c))).toEqual(c);
          for (const variant of [
            line,
            `a=${line}`,
            line.slice('candidate:'.length),
            `a=${line.slice('candidate:'.length)}`,
            `${line}\r`,
            `a=${line}\r\n`,
            `${line}\n`,
            ` ${line.replaceAll(' ', ' \t  ')}\t`,
          ]) {
            expect(parseCandidate(variant)).toEqual(c);
            expect(formatCandidate(parseCandidate(variant))).toBe(line);
          }
          expect(formatCandidateAttribute(c)).toBe(`a=${line}`);
        });
      }
    }
  }
});

describe('lines as libnice 0.1.21 writes them', () => {
  it('host active (port 9)', () => {
    const line = 'a=candidate:1 1 TCP 1015022079 192.0.2.10 9 typ host tcptype active';
    expect(parseCandidate(line)).toEqual({
      foundation: '1',
      component: 1,
      transport: 'TCP',
      priority: 1015022079,
      address: '192.0.2.10',
      port: 9,
      type: 'host',
      tcpType: 'active',
      extensions: [],
    });
    expect(formatCandidateAttribute(parseCandidate(line))).toBe(line);
  });

  it('host passive', () => {
    const line = 'a=candidate:2 1 TCP 1010827775 192.0.2.10 42117 typ host tcptype passive';
    const c = parseCandidate(line);
    expect(c).toMatchObject({ foundation: '2', port: 42117, tcpType: 'passive', priority: 1010827775 });
    expect(formatCandidateAttribute(c)).toBe(line);
  });

  it('srflx with raddr/rport', () => {
    const line =
      'a=candidate:5 1 TCP 847249663 203.0.113.5 42117 typ srflx raddr 192.0.2.10 rport 42117 tcptype passive';
    const c = parseCandidate(line);
    expect(c).toMatchObject({
      type: 'srflx',
      relatedAddress: '192.0.2.10',
      relatedPort: 42117,
      tcpType: 'passive',
    });
    expect(formatCandidateAttribute(c)).toBe(line);
  });

  it('IPv6 host passive', () => {
    const line = 'a=candidate:3 1 TCP 1010827519 2001:db8::5 39851 typ host tcptype passive';
    expect(formatCandidateAttribute(parseCandidate(line))).toBe(line);
  });
});

describe('parseCandidate details', () => {
  it('accepts lower-case transport and normalises IPv6', () => {
    const c = parseCandidate(
      'candidate:1 1 tcp 5 2001:DB8:0:0:0:0:0:1 1 typ relay raddr 2001:0DB8::2 rport 3 tcptype so',
    );
    expect(c.transport).toBe('TCP');
    expect(c.address).toBe('2001:db8::1');
    expect(c.relatedAddress).toBe('2001:db8::2');
  });

  it('keeps unknown extension pairs in order and writes them back after tcptype', () => {
    const c = parseCandidate(
      'candidate:1 1 TCP 5 192.0.2.1 9 typ host generation 0 tcptype active network-id 1 ufrag abcd',
    );
    expect(c.tcpType).toBe('active');
    expect(c.extensions).toEqual([
      ['generation', '0'],
      ['network-id', '1'],
      ['ufrag', 'abcd'],
    ]);
    expect(formatCandidate(c)).toBe(
      'candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype active generation 0 network-id 1 ufrag abcd',
    );
  });

  it('keeps the port of a received active candidate but writes 9', () => {
    const c = parseCandidate('candidate:1 1 TCP 5 192.0.2.1 0 typ host tcptype active');
    expect(c.port).toBe(0);
    expect(formatCandidate(c)).toBe('candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype active');
  });

  it('accepts the priority and port bounds', () => {
    expect(parseCandidate('candidate:1 256 TCP 4294967295 0.0.0.0 65535 typ host tcptype so').priority).toBe(
      4294967295,
    );
    expect(parseCandidate('candidate:1 1 TCP 1 0.0.0.0 0 typ host tcptype so').port).toBe(0);
  });
});

describe('parseCandidate rejections', () => {
  const ok = 'candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype active';
  const cases: Array<[string, string]> = [
    ['line', ''],
    ['line', 'a=candidate:'],
    ['line', ' \t\r\n'],
    ['foundation', 'candidate:a.b 1 TCP 5 192.0.2.1 9 typ host tcptype active'],
    ['foundation', `candidate:${'a'.repeat(33)} 1 TCP 5 192.0.2.1 9 typ host tcptype active`],
    ['component', 'candidate:1 0 TCP 5 192.0.2.1 9 typ host tcptype active'],
    ['component', 'candidate:1 257 TCP 5 192.0.2.1 9 typ host tcptype active'],
    ['component', 'candidate:1 x TCP 5 192.0.2.1 9 typ host tcptype active'],
    ['component', 'candidate:1'],
    ['transport', 'candidate:1 1 UDP 5 192.0.2.1 9 typ host'],
    ['transport', 'candidate:1 1 TLS 5 192.0.2.1 9 typ host tcptype active'],
    ['priority', 'candidate:1 1 TCP 0 192.0.2.1 9 typ host tcptype active'],
    ['priority', 'candidate:1 1 TCP 4294967296 192.0.2.1 9 typ host tcptype active'],
    ['priority', 'candidate:1 1 TCP -5 192.0.2.1 9 typ host tcptype active'],
    ['priority', 'candidate:1 1 TCP 1e3 192.0.2.1 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 example.com 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 0a1b2c3d-1234-4321-8888-123456789abc.local 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 [2001:db8::1] 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 fe80::1%eth0 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 192.0.2.010 9 typ host tcptype active'],
    ['address', 'candidate:1 1 TCP 5 256.0.2.1 9 typ host tcptype active'],
    ['port', 'candidate:1 1 TCP 5 192.0.2.1 65536 typ host tcptype active'],
    ['port', 'candidate:1 1 TCP 5 192.0.2.1 x typ host tcptype active'],
    ['typ', 'candidate:1 1 TCP 5 192.0.2.1 9 type host tcptype active'],
    ['typ', 'candidate:1 1 TCP 5 192.0.2.1 9'],
    ['type', 'candidate:1 1 TCP 5 192.0.2.1 9 typ relayed tcptype active'],
    ['type', 'candidate:1 1 TCP 5 192.0.2.1 9 typ'],
    ['raddr', 'candidate:1 1 TCP 5 192.0.2.1 9 typ srflx raddr host.example rport 1 tcptype active'],
    ['raddr', 'candidate:1 1 TCP 5 192.0.2.1 9 typ srflx raddr 10.0.0.1 raddr 10.0.0.1 tcptype active'],
    ['rport', 'candidate:1 1 TCP 5 192.0.2.1 9 typ srflx raddr 10.0.0.1 rport 70000 tcptype active'],
    ['rport', 'candidate:1 1 TCP 5 192.0.2.1 9 typ srflx raddr 10.0.0.1 rport 1 rport 1 tcptype active'],
    ['tcptype', 'candidate:1 1 TCP 5 192.0.2.1 9 typ host'],
    ['tcptype', 'candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype both'],
    ['tcptype', 'candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype so tcptype so'],
    ['extension', `${ok} generation`],
    ['extension', 'candidate:1 1 TCP 5 192.0.2.1 9 typ host tcptype'],
    ['extension', `${ok} bad(name) 1`],
    ['extension', `${ok} generation 0\r\r`],
  ];
  it.each(cases)('token %s: %j', (token, line) => {
    const error = parseError(line);
    expect(error.token).toBe(token);
    expect(error.code).toBe('ERR_CANDIDATE_PARSE');
    expect(error.line).toBe(line);
    expect(error.message).toContain(token);
  });

  it('names every field the parser can blame', () => {
    const blamed = new Set(cases.map(([token]) => token));
    for (const token of [
      'foundation',
      'component',
      'transport',
      'priority',
      'address',
      'port',
      'typ',
      'type',
      'raddr',
      'rport',
      'tcptype',
      'extension',
      'line',
    ]) {
      expect(blamed).toContain(token);
    }
  });
});

describe('formatCandidate refuses what it could not read back', () => {
  const good = sample('srflx', 'so', '192.0.2.10', '10.0.0.2');
  const bad: Array<Partial<Candidate>> = [
    { foundation: 'a b' },
    { component: 0 },
    { priority: 0 },
    { port: 65536 },
    { address: 'example.com' },
    { relatedAddress: 'x.local' },
    { relatedPort: -1 },
    { extensions: [['tcptype', 'so']] },
    { extensions: [['name', 'two words']] },
    { extensions: [['name', '']] },
  ];
  it.each(bad)('%j', (patch) => {
    expect(() => formatCandidate({ ...good, ...patch })).toThrow(InvalidArgumentError);
  });
});
