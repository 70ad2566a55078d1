import { describe, expect, it } from 'vitest';
import { Checklist } from '../../src/checklist/index.js';
import { checks, localCandidate, remoteCandidate, testConfig } from './helpers.js';

/** Our host active and relay active candidates against one remote passive host candidate. */
function directAndRelay(overrides = {}): Checklist {
  const list = new Checklist(testConfig(overrides));
  list.addLocalCandidate(localCandidate('H', { tcpType: 'active' }), 0);
  list.addLocalCandidate(
    localCandidate('R', { tcpType: 'active', type: 'relay', address: '198.51.100.7' }),
    0,
  );
  list.addRemoteCandidate(remoteCandidate({ id: 'p', tcpType: 'passive', port: 1 }), 0);
  return list;
}

const nominations = (list: Checklist, now: number) => checks(list.poll(now)).filter((c) => c.useCandidate);

describe('relay fallback nomination (relayNominationWaitMs)', () => {
  it('a relayed pair that succeeded while the direct check hangs is nominated after relayNominationWaitMs', () => {
    const list = directAndRelay({ nominationWaitMs: 5000, relayNominationWaitMs: 300 });
    list.start(0);
    expect(checks(list.poll(0)).map((c) => c.pairId)).toEqual(['H|p']); // direct first: higher priority
    expect(checks(list.poll(5)).map((c) => c.pairId)).toEqual(['R|p']);
    list.onCheckSuccess('R|p', 20);
    expect(nominations(list, 20)).toEqual([]);
    expect(list.nextWakeup()).toBeLessThanOrEqual(300);
    expect(nominations(list, 299)).toEqual([]);
    expect(nominations(list, 300)).toEqual([
      { type: 'check', pairId: 'R|p', useCandidate: true, triggered: true },
    ]);
  });

  it('a direct pair that succeeds in time wins over the relayed one', () => {
    const list = directAndRelay({ relayNominationWaitMs: 300 });
    list.start(0);
    list.poll(0);
    list.poll(5);
    list.onCheckSuccess('R|p', 20);
    list.onCheckSuccess('H|p', 250);
    expect(nominations(list, 250)).toEqual([
      { type: 'check', pairId: 'H|p', useCandidate: true, triggered: true },
    ]);
  });

  it('without relayNominationWaitMs the relayed pair waits nominationWaitMs like any other', () => {
    const list = directAndRelay({ nominationWaitMs: 800 });
    list.start(0);
    list.poll(0);
    list.poll(5);
    list.onCheckSuccess('R|p', 20);
    expect(nominations(list, 799)).toEqual([]);
    expect(nominations(list, 800)).toHaveLength(1);
  });
});

describe('relay options', () => {
  it('resolveOptions defaults relayNominationWaitMs to 800 and rejects bad values', async () => {
    const { resolveOptions } = await import('../../src/agent/options.js');
    expect(resolveOptions({}).relayNominationWaitMs).toBe(800);
    const invalid = (name: string) =>
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(name) });
    expect(() => resolveOptions({ relayNominationWaitMs: -1 })).toThrow(invalid('relayNominationWaitMs'));
    const turn = { host: '127.0.0.1', port: 3478, username: 'u', password: 'p' };
    expect(() => resolveOptions({ turnServers: [{ ...turn, permissionLifetimeSeconds: 0 }] })).toThrow(
      invalid('permissionLifetimeSeconds'),
    );
    expect(() => resolveOptions({ forceRelay: true })).toThrow(invalid('turnServers'));
  });
});
