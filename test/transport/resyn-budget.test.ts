import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { DEFAULT_FAST_RETRIES, ResynBudget, SimultaneousOpenPort } from '../../src/transport/index.js';
import { closedPort } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Counts SYNs (connect attempts) the code under test starts. */
function countConnects(): { readonly count: number } {
  const original = net.connect;
  const counter = { count: 0 };
  vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
    counter.count++;
    return original(...args);
  }) as typeof net.connect);
  return counter;
}

async function closedPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await closedPort());
  return [...ports];
}

describe('ResynBudget (token bucket with a per-target allowance)', () => {
  it('spends the burst, then refills at the rate', () => {
    let now = 0;
    const budget = new ResynBudget({ ratePerSecond: 100, burst: 3, now: () => now });
    expect([budget.take(), budget.take(), budget.take()]).toEqual([0, 0, 0]);
    expect(budget.take()).toBe(10);
    now += 10;
    expect(budget.take()).toBe(0);
    expect(budget.takeFast('a')).toBe(false);
  });

  it('caps immediate re-SYNs per target, in windows of 10 s', () => {
    let now = 0;
    const budget = new ResynBudget({
      ratePerSecond: 1e6,
      burst: 1e6,
      perTargetFastRetries: 2,
      now: () => now,
    });
    expect([budget.takeFast('a'), budget.takeFast('a'), budget.takeFast('a')]).toEqual([true, true, false]);
    expect(budget.takeFast('b')).toBe(true);
    now += 10_000;
    expect(budget.takeFast('a')).toBe(true);
  });

  it('rejects unusable settings', () => {
    expect(() => new ResynBudget({ ratePerSecond: 0 })).toThrow(InvalidArgumentError);
    expect(() => new ResynBudget({ burst: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => new ResynBudget({ perTargetFastRetries: -1 })).toThrow(InvalidArgumentError);
  });
});

/**
 * Issue 8 item 13: a peer that signals S-O candidates at closed ports of a third party made the agent re-SYN
 * at once after every RST, up to 2000 times per candidate: ~42,000 SYNs in 2.5 s for 100 candidates.
 */
describe('S-O dials towards refusing targets send a bounded number of SYNs', () => {
  it('100 dials from ports sharing one budget stay within burst + rate × time', async () => {
    const budget = new ResynBudget({ ratePerSecond: 200, burst: 100 });
    const ports = await Promise.all(
      [0, 1, 2, 3].map(() =>
        SimultaneousOpenPort.open({ address: '127.0.0.1', acceptInbound: false, resynBudget: budget }),
      ),
    );
    for (const port of ports) cleanups.push(() => port.close());
    const targets = await closedPorts(100);
    const connects = countConnects();
    const started = performance.now();
    const results = await Promise.allSettled(
      targets.map((remotePort, i) =>
        (ports[i % ports.length] as SimultaneousOpenPort).dial({
          remoteAddress: '127.0.0.1',
          remotePort,
          timeoutMs: 600,
          fastRetries: DEFAULT_FAST_RETRIES,
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    // one first SYN per dial, then re-SYNs only against tokens (+1 s of rate as slack for timer lateness)
    expect(connects.count).toBeLessThanOrEqual(100 + 100 + 200 * (seconds + 1));
    expect(connects.count).toBeGreaterThan(100);
  }, 10_000);

  it('immediate re-SYNs to one target stop at the per-target allowance', async () => {
    const port = await SimultaneousOpenPort.open({
      address: '127.0.0.1',
      acceptInbound: false,
      resynBudget: new ResynBudget({ perTargetFastRetries: 50 }),
    });
    cleanups.push(() => port.close());
    const [target] = await closedPorts(1);
    const connects = countConnects();
    const dial = port.dial({
      remoteAddress: '127.0.0.1',
      remotePort: target as number,
      timeoutMs: 300,
      fastRetries: DEFAULT_FAST_RETRIES,
    });
    await expect(dial).rejects.toMatchObject({ syscallCode: 'ECONNREFUSED' });
    // 1 + 50 immediate, then one per retryDelayMs (20 ms) for the rest of the 300 ms
    expect(connects.count).toBeLessThanOrEqual(1 + 50 + 300 / 20 + 1);
  });
});
