import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/agent/options.js';

describe('lite option', () => {
  it('defaults to passive host candidates and the controlled role', () => {
    const o = resolveOptions({ lite: true });
    expect(o).toMatchObject({ lite: true, tcpTypes: ['passive'], role: 'controlled' });
    expect(resolveOptions({}).lite).toBe(false);
  });

  it('refuses options that need a full agent, naming the option', () => {
    const cases: Array<[string, Parameters<typeof resolveOptions>[0]]> = [
      ['tcpTypes', { lite: true, tcpTypes: ['passive', 'active'] }],
      ['tcpTypes', { lite: true, tcpTypes: ['so'] }],
      ['stunServers', { lite: true, stunServers: [{ host: '127.0.0.1', port: 3478 }] }],
      [
        'turnServers',
        { lite: true, turnServers: [{ host: '127.0.0.1', port: 3478, username: 'u', password: 'p' }] },
      ],
      ['forceRelay', { lite: true, forceRelay: true }],
      ['role', { lite: true, role: 'controlling' }],
    ];
    for (const [option, options] of cases) {
      expect(() => resolveOptions(options), option).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(option) }),
      );
    }
    expect(() => resolveOptions({ lite: 'yes' as unknown as boolean })).toThrow(/lite must be a boolean/);
    expect(resolveOptions({ lite: true, role: 'controlled', tcpTypes: ['passive'] }).lite).toBe(true);
  });
});
