import { describe, expect, it } from 'vitest';
import { isPredicted, PREDICTED_EXTENSION, predictedKind } from '../../src/candidate/predicted.js';
import { formatCandidate, parseCandidate } from '../../src/candidate/sdp.js';

const line = (type: string, ext: string) =>
  `candidate:3 1 TCP 838860287 203.0.113.7 40000 typ ${type} raddr 10.0.0.2 rport 40000 tcptype passive ${ext}`;

describe('predicted candidates', () => {
  it('uses the x-ice-tcp-predicted extension name', () => {
    expect(PREDICTED_EXTENSION).toBe('x-ice-tcp-predicted');
  });

  it.each(['preserve', 'sequential', 'range'] as const)(
    'recognises kind %s on a srflx line and keeps it',
    (kind) => {
      const c = parseCandidate(line('srflx', `x-ice-tcp-predicted ${kind}`));
      expect(predictedKind(c)).toBe(kind);
      expect(isPredicted(c)).toBe(true);
      expect(formatCandidate(c)).toBe(line('srflx', `x-ice-tcp-predicted ${kind}`));
    },
  );

  it('ignores unknown kinds, other types and ordinary candidates', () => {
    expect(isPredicted(parseCandidate(line('srflx', 'x-ice-tcp-predicted maybe')))).toBe(false);
    expect(isPredicted(parseCandidate(line('relay', 'x-ice-tcp-predicted preserve')))).toBe(false);
    expect(predictedKind(parseCandidate(line('srflx', 'generation 0')))).toBeUndefined();
  });
});
