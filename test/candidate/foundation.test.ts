import { describe, expect, it } from 'vitest';
import { computeFoundation } from '../../src/candidate/foundation.js';

const base = { type: 'host', baseAddress: '192.0.2.10', tcpType: 'passive' } as const;

describe('computeFoundation (RFC 8445 §5.1.1.3)', () => {
  it('is deterministic and made of 1..32 ice-chars', () => {
    const f = computeFoundation(base);
    expect(f).toBe(computeFoundation({ ...base }));
    expect(f).toMatch(/^[A-Za-z0-9+/]{1,32}$/);
  });

  it('is shared by candidates that agree on type, base IP, server IP and tcptype', () => {
    const a = computeFoundation({
      type: 'srflx',
      baseAddress: '10.0.0.2',
      serverAddress: '198.51.100.1',
      tcpType: 'so',
    });
    const b = computeFoundation({
      type: 'srflx',
      baseAddress: '10.0.0.2',
      serverAddress: '198.51.100.1',
      tcpType: 'so',
    });
    expect(a).toBe(b);
  });

  it('treats equal spellings of one IPv6 address as the same base', () => {
    expect(computeFoundation({ ...base, baseAddress: '2001:DB8:0:0::1' })).toBe(
      computeFoundation({ ...base, baseAddress: '2001:db8::1' }),
    );
  });

  it('differs when any part of the key differs', () => {
    const all = new Set([
      computeFoundation(base),
      computeFoundation({ ...base, type: 'srflx' }),
      computeFoundation({ ...base, baseAddress: '192.0.2.11' }),
      computeFoundation({ ...base, serverAddress: '198.51.100.1' }),
      computeFoundation({ ...base, serverAddress: '198.51.100.2' }),
      computeFoundation({ ...base, tcpType: 'active' }),
      computeFoundation({ ...base, tcpType: 'so' }),
    ]);
    expect(all.size).toBe(7);
  });
});
