import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IceAgent, type IceAgentOptions } from '../../src/index.js';

/**
 * Strangers' connections to a passive or S-O port: capped per port by evicting the oldest unauthenticated
 * one (never refusing the newest), reset after a deadline, and forgotten (timer and all) once closed.
 */
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  vi.useRealTimers();
});

function portsOf(agent: IceAgent, tcpType: 'passive' | 'so'): number[] {
  return agent
    .localDescription()
    .filter((l) => l.includes(`tcptype ${tcpType}`))
    .map((l) => Number(l.split(' ')[5]));
}

/** Keeps `count` idle connections open to `port`, opening a new one whenever one is closed. */
function idleFlood(port: number, count: number): { opened(): number; stop(): void } {
  let stopped = false;
  let opened = 0;
  const sockets = new Set<net.Socket>();
  const open = () => {
    if (stopped) return;
    opened++;
    const s = net.connect(port, '127.0.0.1');
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      setImmediate(open);
    });
  };
  for (let i = 0; i < count; i++) open();
  return {
    opened: () => opened,
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

async function connectPair(options: IceAgentOptions, flood?: number): Promise<{ flooded: number }> {
  const alice = new IceAgent({ ...options, role: 'controlling' });
  const bob = new IceAgent({ ...options, role: 'controlled' });
  cleanups.push(
    () => alice.close(),
    () => bob.close(),
  );
  await Promise.all([alice.gather(), bob.gather()]);
  const floods = flood
    ? [...portsOf(alice, 'passive'), ...portsOf(bob, 'passive')].map((p) => idleFlood(p, flood))
    : [];
  cleanups.push(() => {
    for (const f of floods) f.stop();
  });
  // let the attack take every slot before the peers learn of each other
  await new Promise((r) => setTimeout(r, 200));
  alice.setRemoteDescription(bob.localDescription());
  bob.setRemoteDescription(alice.localDescription());
  await Promise.all([alice.connect(), bob.connect()]);
  return { flooded: floods.reduce((n, f) => n + f.opened(), 0) };
}

describe('unauthenticated inbound connections', () => {
  it('the real peer connects while idle strangers hold more than the cap on both passive ports', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { flooded } = await connectPair(
        { addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'], connectTimeoutMs: 8000 },
        64,
      );
      expect(flooded).toBeGreaterThanOrEqual(128);
      for (const c of cleanups.splice(0)) c();
    }
  });

  it('a stranger that never authenticates is reset at unauthenticatedTimeoutMs', async () => {
    const agent = new IceAgent({
      addresses: ['127.0.0.1'],
      tcpTypes: ['passive'],
      unauthenticatedTimeoutMs: 100,
    });
    cleanups.push(() => agent.close());
    await agent.gather();
    const [port] = portsOf(agent, 'passive');
    const socket = net.connect(port ?? 0, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    socket.on('error', () => {});
    const closedAt = await new Promise<number>((resolve) => {
      const start = performance.now();
      socket.on('close', () => resolve(performance.now() - start));
    });
    expect(closedAt).toBeGreaterThanOrEqual(90);
    expect(closedAt).toBeLessThan(2000); // the old reaper waited checkTimeoutMs (2500)
  });

  it('a closed stranger leaves no timer behind (memory did not grow with the attack rate)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const agent = new IceAgent({ addresses: ['127.0.0.1'], tcpTypes: ['passive'] });
    cleanups.push(() => agent.close());
    await agent.gather();
    const [port] = portsOf(agent, 'passive');
    const baseline = vi.getTimerCount();
    for (let i = 0; i < 20; i++) {
      const socket = net.connect(port ?? 0, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      // give the agent a tick to accept it, then hang up
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      socket.destroy();
    }
    await vi.waitFor(() => expect(vi.getTimerCount()).toBeLessThanOrEqual(baseline), { interval: 20 });
  });

  it('rejects unusable limits in the constructor', () => {
    expect(() => new IceAgent({ maxUnauthenticatedConnections: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new IceAgent({ unauthenticatedTimeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
