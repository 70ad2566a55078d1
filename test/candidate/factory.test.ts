import { describe, expect, it } from 'vitest';
import { makeLocalCandidate, otherPreferenceOf } from '../../src/candidate/factory.js';
import { computeFoundation } from '../../src/candidate/foundation.js';
import { PREDICTED_EXTENSION, predictedKind } from '../../src/candidate/predicted.js';
import { candidatePriority } from '../../src/candidate/priority.js';

describe('makeLocalCandidate', () => {
  it('derives foundation and priority the way RFC 8445 §5.1.1.3 and RFC 6544 §4.2 say', () => {
    const c = makeLocalCandidate({
      id: 'L1',
      type: 'srflx',
      tcpType: 'so',
      address: '203.0.113.5',
      port: 40000,
      baseAddress: '10.0.0.2',
      basePort: 5000,
      otherPreference: 8190,
      serverAddress: '198.51.100.1',
      related: { address: '10.0.0.2', port: 5000 },
    });
    expect(c).toEqual({
      id: 'L1',
      foundation: computeFoundation({
        type: 'srflx',
        baseAddress: '10.0.0.2',
        serverAddress: '198.51.100.1',
        tcpType: 'so',
      }),
      component: 1,
      transport: 'TCP',
      priority: candidatePriority({ type: 'srflx', tcpType: 'so', otherPreference: 8190 }),
      address: '203.0.113.5',
      port: 40000,
      type: 'srflx',
      tcpType: 'so',
      relatedAddress: '10.0.0.2',
      relatedPort: 5000,
      extensions: [],
      baseAddress: '10.0.0.2',
      basePort: 5000,
    });
  });

  it('a predicted candidate gets the predicted preference and its marker; a host one no raddr', () => {
    const input = {
      id: 'L2',
      type: 'srflx',
      tcpType: 'passive',
      address: '203.0.113.5',
      port: 6000,
      baseAddress: '10.0.0.2',
      basePort: 6000,
      otherPreference: 3,
    } as const;
    const predicted = makeLocalCandidate({ ...input, predicted: 'preserve' });
    expect(predictedKind(predicted)).toBe('preserve');
    expect(predicted.extensions).toEqual([[PREDICTED_EXTENSION, 'preserve']]);
    expect(predicted.priority).toBe(
      candidatePriority({ type: 'srflx', tcpType: 'passive', predicted: true, otherPreference: 3 }),
    );
    expect(predicted.priority).toBeLessThan(makeLocalCandidate(input).priority);
    const host = makeLocalCandidate({ ...input, type: 'host' });
    expect(host).not.toHaveProperty('relatedAddress');
    expect(host).not.toHaveProperty('relatedPort');
  });
});

describe('otherPreferenceOf', () => {
  it('reads back the other-preference of any priority', () => {
    for (const type of ['host', 'srflx', 'prflx', 'relay'] as const) {
      for (const tcpType of ['active', 'passive', 'so'] as const) {
        for (const otherPreference of [0, 1, 4096, 8191]) {
          expect(otherPreferenceOf(candidatePriority({ type, tcpType, otherPreference }))).toBe(
            otherPreference,
          );
        }
      }
    }
  });
});
