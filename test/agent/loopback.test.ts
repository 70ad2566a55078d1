import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceAgentOptions } from '../../src/index.js';
import { agentPair, roundTrip, sha256Of, writeRandom } from './helpers.js';

const hasIPv6Loopback = Object.values(networkInterfaces())
  .flat()
  .some((i) => i?.address === '::1');

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function pair(a: IceAgentOptions, b: IceAgentOptions) {
  const p = agentPair(a, b);
  cleanup.push(() => p.close());
  return p;
}

describe('IceAgent on loopback', () => {
  it('connects active -> passive (controlling side active only)', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['passive'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    expect(ca.localCandidate.tcpType).toBe('active');
    expect(ca.remoteCandidate.tcpType).toBe('passive');
    expect(cb.localCandidate.tcpType).toBe('passive');
    await roundTrip(ca, cb);
    expect(alice.state).toBe('completed');
    expect(bob.state).toBe('completed');
  });

  it('connects passive <- active (controlling side passive only)', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['passive'] },
      { role: 'controlled', addresses: ['127.0.0.1'], tcpTypes: ['active'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    expect(ca.localCandidate.tcpType).toBe('passive');
    expect(cb.localCandidate.tcpType).toBe('active');
    await roundTrip(ca, cb);
  });

  it.skipIf(!hasIPv6Loopback)('connects over IPv6 (::1)', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['::1'] },
      { role: 'controlled', addresses: ['::1'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    expect(ca.localCandidate.address).toBe('::1');
    await roundTrip(ca, cb);
  });

  it('with every tcptype on, nominates the same pair on both sides and reports stats', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlled', addresses: ['127.0.0.1'] },
    );
    const selected: unknown[] = [];
    alice.on('selected-pair', (p) => selected.push(p));
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    expect(selected).toHaveLength(1);
    expect(ca.localAddress).toEqual(cb.remoteAddress);
    expect(ca.remoteAddress).toEqual(cb.localAddress);
    await roundTrip(ca, cb);
    const stats = alice.getStats();
    const chosen = stats.pairs.filter((p) => p.selected);
    expect(chosen).toHaveLength(1);
    expect(chosen[0]?.nominated).toBe(true);
    expect(chosen[0]?.checksSent).toBeGreaterThan(0);
    expect(chosen[0]?.bytesSent).toBeGreaterThan(0);
  });

  it('settles a role conflict when both sides think they control (RFC 8445 §7.3.1.1)', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlling', addresses: ['127.0.0.1'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const roles = [alice.role, bob.role].sort();
    expect(roles).toEqual(['controlled', 'controlling']);
    await roundTrip(ca, cb);
  });

  it('defaults the role: the side that shared its parameters first controls', async () => {
    const { alice, bob } = pair({ addresses: ['127.0.0.1'] }, { addresses: ['127.0.0.1'] });
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    expect([alice.role, bob.role].sort()).toEqual(['controlled', 'controlling']);
    await roundTrip(ca, cb);
  });

  it('trickle: connects when the remote candidates arrive late, one by one', async () => {
    const alice = new IceAgent({ role: 'controlling', addresses: ['127.0.0.1'] });
    const bob = new IceAgent({ role: 'controlled', addresses: ['127.0.0.1'] });
    cleanup.push(
      () => alice.close(),
      () => bob.close(),
    );
    await Promise.all([alice.gather(), bob.gather()]);
    alice.setRemoteParameters(bob.localParameters);
    bob.setRemoteParameters(alice.localParameters);
    const connecting = Promise.all([alice.connect(), bob.connect()]);
    const lines = (agent: IceAgent) => agent.localDescription().filter((l) => l.startsWith('a=candidate'));
    await new Promise((r) => setTimeout(r, 150));
    expect(alice.state).toBe('checking');
    for (const l of lines(bob)) {
      alice.addRemoteCandidate(l);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const l of lines(alice)) bob.addRemoteCandidate(l);
    alice.addRemoteCandidate(null);
    bob.addRemoteCandidate(null);
    const [ca, cb] = await connecting;
    await roundTrip(ca, cb);
  });

  it('never connects with a wrong remote password and fails with a typed error', async () => {
    const alice = new IceAgent({ role: 'controlling', addresses: ['127.0.0.1'], connectTimeoutMs: 8000 });
    const bob = new IceAgent({ role: 'controlled', addresses: ['127.0.0.1'], connectTimeoutMs: 8000 });
    cleanup.push(
      () => alice.close(),
      () => bob.close(),
    );
    await Promise.all([alice.gather(), bob.gather()]);
    alice.setRemoteDescription(
      bob
        .localDescription()
        .map((l) => (l.startsWith('a=ice-pwd:') ? 'a=ice-pwd:wrongwrongwrongwrongwrong' : l)),
    );
    bob.setRemoteDescription(alice.localDescription());
    const results = await Promise.allSettled([alice.connect(), bob.connect()]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const code = (r as PromiseRejectedResult).reason.code;
      expect(['ERR_ICE_FAILED', 'ERR_ICE_TIMEOUT']).toContain(code);
    }
    expect(alice.state).toBe('failed');
    expect(alice.getStats().pairs.every((p) => !p.nominated)).toBe(true);
  });

  it('rejects connect() with ERR_ABORTED when its signal aborts', async () => {
    const controller = new AbortController();
    const agent = new IceAgent({ addresses: ['127.0.0.1'], signal: controller.signal });
    cleanup.push(() => agent.close());
    const p = agent.connect();
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('rejects connect() with ERR_ICE_TIMEOUT when no peer ever answers', async () => {
    const agent = new IceAgent({ addresses: ['127.0.0.1'], connectTimeoutMs: 300 });
    cleanup.push(() => agent.close());
    await expect(agent.connect()).rejects.toMatchObject({ code: 'ERR_ICE_TIMEOUT' });
  });

  it('rejects bad options and bad remote input with typed errors', async () => {
    expect(() => new IceAgent({ checkPacingMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new IceAgent({ tcpTypes: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    const agent = new IceAgent({ addresses: ['127.0.0.1'] });
    cleanup.push(() => agent.close());
    expect(() => agent.setRemoteParameters({ ufrag: 'ab', pwd: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() =>
      agent.addRemoteCandidate('candidate:1 1 TCP 1 127.0.0.1 x typ host tcptype passive'),
    ).toThrow(expect.objectContaining({ code: 'ERR_CANDIDATE_PARSE' }));
  });

  it('moves 100 MB each way in stream mode with equal SHA-256', { timeout: 120_000 }, async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlled', addresses: ['127.0.0.1'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const sa = ca.stream();
    const sb = cb.stream();
    const n = 100 * 1024 * 1024;
    const [sentA, sentB, gotB, gotA] = await Promise.all([
      writeRandom(sa, n, 1),
      writeRandom(sb, n, 2),
      sha256Of(sb, n),
      sha256Of(sa, n),
    ]);
    expect(gotB).toBe(sentA);
    expect(gotA).toBe(sentB);
  });

  it('keeps packet boundaries and delivers packets sent before a listener was attached', async () => {
    const { alice, bob } = pair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlled', addresses: ['127.0.0.1'] },
    );
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const sizes = [1, 1200, 0, 65535, 7];
    for (const s of sizes) ca.send(Buffer.alloc(s, s % 256));
    await new Promise((r) => setTimeout(r, 50));
    const got: number[] = [];
    await new Promise<void>((resolve) => {
      cb.on('packet', (p) => {
        got.push(p.length);
        if (got.length === sizes.length) resolve();
      });
    });
    expect(got).toEqual(sizes);
  });
});
