import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/agent/options.js';

describe('agent options', () => {
  it('fill defaults tuned for speed', () => {
    const o = resolveOptions();
    expect(o.checkPacingMs).toBe(5);
    expect(o.tcpTypes).toEqual(['active', 'passive', 'so']);
    expect(o.maxPairs).toBe(100);
  });

  it('each timeout is its own option; dial and passive grace follow checkTimeoutMs unless set', () => {
    expect(resolveOptions()).toMatchObject({
      checkTimeoutMs: 2500,
      dialTimeoutMs: 2500,
      passiveGraceMs: 2500,
    });
    expect(resolveOptions({ checkTimeoutMs: 900 })).toMatchObject({
      dialTimeoutMs: 900,
      passiveGraceMs: 900,
    });
    expect(resolveOptions({ checkTimeoutMs: 900, dialTimeoutMs: 300, passiveGraceMs: 0 })).toMatchObject({
      checkTimeoutMs: 900,
      dialTimeoutMs: 300,
      passiveGraceMs: 0,
    });
  });

  it.each([
    [{ checkPacingMs: 0 }],
    [{ checkTimeoutMs: Number.NaN }],
    [{ dialTimeoutMs: 0 }],
    [{ passiveGraceMs: -1 }],
    [{ tcpTypes: ['udp' as never] }],
    [{ role: 'boss' as never }],
    [{ portRange: { min: 5000, max: 4000 } }],
    [{ ufrag: 'abc' }],
    [{ pwd: 'short' }],
    [{ maxFrameSize: 70000 }],
    [{ stunServers: [{ host: '', port: 3478 }] }],
    [{ turnServers: [{ host: '127.0.0.1', port: 0, username: 'u', password: 'p' }] }],
    [{ forceRelay: true }],
  ])('reject %j with ERR_INVALID_ARGUMENT', (bad) => {
    expect(() => resolveOptions(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
