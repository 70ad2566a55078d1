import { afterEach, describe, expect, it } from 'vitest';
import { agentPair } from './helpers.js';

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('getStats() after completion', () => {
  // RFC 8445 §8.1.2: once a pair is nominated, the Frozen and Waiting pairs leave the checklist; stats used to
  // show them as `waiting` for ever, as if checks were still to come.
  it('lists no pair as frozen or waiting once a pair is selected', async () => {
    // several loopback addresses give several pairs, most of which are never checked before nomination
    const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const pair = agentPair(
      { role: 'controlling', addresses, tcpTypes: ['active', 'passive'], nominationWaitMs: 0 },
      { role: 'controlled', addresses, tcpTypes: ['active', 'passive'] },
    );
    close = pair.close;
    const [a, b] = await Promise.all([
      pair.alice.connect(),
      pair.bob.connect(),
      pair.alice.gather(),
      pair.bob.gather(),
    ]);
    expect(a && b).toBeTruthy();
    for (const agent of [pair.alice, pair.bob]) {
      const stats = agent.getStats();
      expect(stats.pairs.some((p) => p.selected)).toBe(true);
      expect(stats.pairs.filter((p) => p.state === 'frozen' || p.state === 'waiting')).toEqual([]);
    }
  });
});
