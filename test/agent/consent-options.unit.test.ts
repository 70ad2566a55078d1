import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/agent/options.js';
import { agentOptions } from '../../src/cli/agent-flags.js';

const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });

describe('consent options', () => {
  it('default to RFC 7675: a check every 5 s, consent for 30 s', () => {
    const o = resolveOptions({});
    expect(o.consentIntervalMs).toBe(5000);
    expect(o.consentTimeoutMs).toBe(30_000);
  });

  it('refuse unusable values with InvalidArgumentError naming the option', () => {
    for (const bad of [0, -1, Number.NaN, 5]) {
      expect(() => resolveOptions({ consentIntervalMs: bad })).toThrow(invalid);
      expect(() => resolveOptions({ consentIntervalMs: bad })).toThrow(/consentIntervalMs/);
    }
    expect(() => resolveOptions({ consentTimeoutMs: Number.POSITIVE_INFINITY })).toThrow(/consentTimeoutMs/);
    // consent cannot expire before the first check had its interval to be answered
    expect(() => resolveOptions({ consentIntervalMs: 2000, consentTimeoutMs: 1000 })).toThrow(
      /consentTimeoutMs/,
    );
    expect(resolveOptions({ consentIntervalMs: 200, consentTimeoutMs: 200 }).consentTimeoutMs).toBe(200);
  });

  it('come from --consent-interval and --consent-timeout on the CLI, checked in CLI terms', () => {
    const o = agentOptions('connect', { 'consent-interval': '200', 'consent-timeout': '1500' });
    expect(o).toMatchObject({ consentIntervalMs: 200, consentTimeoutMs: 1500 });
    expect(agentOptions('connect', {})).toMatchObject({ consentIntervalMs: 5000, consentTimeoutMs: 30_000 });
    expect(() => agentOptions('connect', { 'consent-interval': '0' })).toThrow(/--consent-interval/);
    expect(() => agentOptions('connect', { 'consent-interval': '2000', 'consent-timeout': '1000' })).toThrow(
      /--consent-timeout/,
    );
  });
});
