import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLab,
  type Lab,
  type NatOptions,
  natRuleset,
  type ProbeAnswer,
  startProbe,
} from '../support/lab.js';
import { missingForNetns, requireOrSkip } from '../support/require.js';

const ok = requireOrSkip('NAT lab (test/nat/lab.test.ts)', missingForNetns(['nft', 'sysctl']));

const SERVER_PORT = 3478;
const LOCAL_PORT = 40000;

/** Splits the probe's `<address>:<port>` line. */
function seen(answer: ProbeAnswer): { address: string; port: number } {
  expect(answer.ok, `dial failed: ${answer.code}`).toBe(true);
  const [address, port] = (answer.line ?? '').split(':');
  return { address: address ?? '', port: Number(port) };
}

/** Namespaces whose name starts with the lab's prefix, as `ip netns list` shows them. */
function namespacesOf(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

describe.skipIf(!ok)('NAT lab', () => {
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.destroy();
    lab = undefined;
  });

  /** Probes on the server, hostA and hostB. */
  const threeProbes = (l: Lab) =>
    Promise.all([startProbe(l, 'server'), startProbe(l, 'hostA'), startProbe(l, 'hostB')]);

  /** Brings up a lab with `nat` on side A and hostB public, a probe listening on the server, one on hostA. */
  async function natScenario(nat: NatOptions) {
    lab = await createLab({ a: nat, b: 'public' });
    console.log(`lab ${JSON.stringify(nat)} up in ${lab.bringUpMs.toFixed(0)} ms`);
    const [server, hostA] = await Promise.all([startProbe(lab, 'server'), startProbe(lab, 'hostA')]);
    expect((await server.listen(SERVER_PORT)).ok).toBe(true);
    const dial = (localPort: number) =>
      hostA.dial(lab!.server.address, SERVER_PORT, { localPort }).then(seen);
    // Twice from one local port (the first closed with RST), then from the next port.
    const first = await dial(LOCAL_PORT);
    const again = await dial(LOCAL_PORT);
    const other = await dial(LOCAL_PORT + 1);
    console.log(
      `mapping ${nat.mapping}: ${LOCAL_PORT} -> ${first.port}, ${again.port}; ${LOCAL_PORT + 1} -> ${other.port}`,
    );
    for (const s of [first, again, other]) expect(s.address).toBe(lab.natA!.publicAddress);
    // An unsolicited SYN from the server to hostA's last mapping: not part of any flow hostA opened.
    const unsolicited = await server.dial(lab.natA!.publicAddress, other.port, { timeoutMs: 1500 });
    return { ports: [first.port, again.port, other.port], unsolicited };
  }

  it('preserve mapping keeps the local port; drop filtering times out', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'preserve', filtering: 'drop' });
    expect(ports).toEqual([LOCAL_PORT, LOCAL_PORT, LOCAL_PORT + 1]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('preserve mapping with rst filtering refuses unsolicited SYNs', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'preserve', filtering: 'rst' });
    expect(ports).toEqual([LOCAL_PORT, LOCAL_PORT, LOCAL_PORT + 1]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('random mapping gives every connection a new port', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'random', filtering: 'rst' });
    // Three draws from ~64k ports: a false failure needs a collision (~1 in 20 000 runs).
    expect(new Set(ports).size).toBe(3);
    expect(ports).not.toEqual([LOCAL_PORT, LOCAL_PORT, LOCAL_PORT + 1]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('sequential mapping hands out consecutive ports', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'sequential', filtering: 'drop' });
    const [first = 0, again, other] = ports;
    expect(first).toBeGreaterThanOrEqual(20000);
    expect(first).toBeLessThan(20200 - 2);
    expect([again, other]).toEqual([first + 1, first + 2]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('sequential mapping with rst filtering: the SYNs it refuses take no port', async () => {
    lab = await createLab({ a: { mapping: 'sequential', filtering: 'rst' }, b: 'public' });
    const [server, hostA] = await Promise.all([startProbe(lab, 'server'), startProbe(lab, 'hostA')]);
    expect((await server.listen(SERVER_PORT)).ok).toBe(true);
    const dial = (localPort: number) =>
      hostA.dial(lab!.server.address, SERVER_PORT, { localPort }).then(seen);
    const first = await dial(LOCAL_PORT);
    // a peer's SYNs to ports without a mapping (an RST ping-pong towards predicted ports): each one refused
    for (let i = 0; i < 5; i++) {
      const refused = await server.dial(lab.natA!.publicAddress, first.port + 50, { timeoutMs: 1500 });
      expect(refused).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
    }
    // the nftables RST of each refusal once went through the snat rule and drew a port: this was first + 6
    expect((await dial(LOCAL_PORT + 1)).port).toBe(first.port + 1);
  });

  it('range mapping picks ports inside its small range', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'range', filtering: 'drop' });
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThanOrEqual(20009);
    }
    expect(unsolicited).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('endpoint-independent filtering lets any source in to a mapped port, and only to a mapped port', async () => {
    lab = await createLab({ a: { mapping: 'preserve', filtering: 'endpoint-independent' }, b: 'public' });
    const [server, hostA, hostB] = await threeProbes(lab);
    await server.listen(SERVER_PORT);
    // The mapping: hostA talks to the server only. Then its port listens (the dial's socket is gone, RST).
    expect(seen(await hostA.dial(lab.server.address, SERVER_PORT, { localPort: LOCAL_PORT }))).toEqual({
      address: lab.natA!.wan,
      port: LOCAL_PORT,
    });
    expect((await hostA.listen(LOCAL_PORT)).ok).toBe(true);
    expect((await hostA.listen(LOCAL_PORT + 1)).ok).toBe(true);
    // hostB, which hostA never talked to, gets in, and hostA sees hostB's own address.
    const fromB = await hostB.dial(lab.natA!.wan, LOCAL_PORT, { timeoutMs: 3000 });
    expect(seen(fromB)).toEqual({ address: lab.hosts.hostB.address, port: fromB.localPort });
    // A port hostA listens on but never mapped stays closed to the outside.
    const unmapped = await hostB.dial(lab.natA!.wan, LOCAL_PORT + 1, { timeoutMs: 1500 });
    expect(unmapped).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('hairpinning: hostB reaches hostA through the public address, seen as the public address', async () => {
    lab = await createLab({ sameNat: true, lanIsolation: true, a: { hairpin: true } });
    const [server, hostA, hostB] = await threeProbes(lab);
    await server.listen(SERVER_PORT);
    seen(await hostA.dial(lab.server.address, SERVER_PORT, { localPort: LOCAL_PORT }));
    expect((await hostA.listen(LOCAL_PORT)).ok).toBe(true);
    // Client isolation: the LAN itself carries nothing between the two hosts.
    const lan = await hostB.dial(lab.hosts.hostA.address, LOCAL_PORT, { timeoutMs: 1500 });
    expect(lan).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    const hairpin = await hostB.dial(lab.natA!.wan, LOCAL_PORT, { timeoutMs: 3000 });
    expect(seen(hairpin)).toEqual({ address: lab.natA!.wan, port: hairpin.localPort });
  });

  it('without hairpinning the public address of a LAN host is not reachable from the LAN', async () => {
    lab = await createLab({ sameNat: true });
    const [server, hostA, hostB] = await threeProbes(lab);
    await server.listen(SERVER_PORT);
    seen(await hostA.dial(lab.server.address, SERVER_PORT, { localPort: LOCAL_PORT }));
    expect((await hostA.listen(LOCAL_PORT)).ok).toBe(true);
    // natA itself has nothing on that port: its kernel refuses
    const direct = await hostB.dial(lab.natA!.wan, LOCAL_PORT, { timeoutMs: 1500 });
    expect(direct).toMatchObject({ ok: false, code: 'ECONNREFUSED' });
  });

  it('double NAT, both preserving: the carrier NAT holds the public address', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'preserve', cgn: { mapping: 'preserve' } });
    expect(lab!.natA!.wan).toBe('100.64.1.2');
    expect(lab!.natA!.publicAddress).toBe('203.0.113.1');
    expect(lab!.namespaces.cgnA).toBe(lab!.natA!.cgn!.namespace);
    expect(ports).toEqual([LOCAL_PORT, LOCAL_PORT, LOCAL_PORT + 1]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('double NAT, preserving behind sequential: consecutive public ports', async () => {
    const { ports, unsolicited } = await natScenario({ mapping: 'preserve', cgn: { mapping: 'sequential' } });
    const [first = 0, again, other] = ports;
    expect(first).toBeGreaterThanOrEqual(20000);
    expect([again, other]).toEqual([first + 1, first + 2]);
    expect(unsolicited).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
  });

  it('same-NAT mode: hostA and hostB share a LAN behind natA', async () => {
    lab = await createLab({ sameNat: true });
    expect(lab.natB).toBeUndefined();
    expect(lab.hosts.hostB.address).toBe('10.0.1.3');
    const [hostA, hostB, server] = await Promise.all([
      startProbe(lab, 'hostA'),
      startProbe(lab, 'hostB'),
      startProbe(lab, 'server'),
    ]);
    await Promise.all([hostB.listen(5000), server.listen(SERVER_PORT)]);
    // On the LAN hostB sees hostA's private address and port, untranslated.
    const lan = seen(await hostA.dial(lab.hosts.hostB.address, 5000, { localPort: LOCAL_PORT }));
    expect(lan).toEqual({ address: lab.hosts.hostA.address, port: LOCAL_PORT });
    // Both leave through natA's one public address.
    const viaA = seen(await hostA.dial(lab.server.address, SERVER_PORT));
    const viaB = seen(await hostB.dial(lab.server.address, SERVER_PORT));
    expect([viaA.address, viaB.address]).toEqual([lab.natA!.wan, lab.natA!.wan]);
  });

  it('public mode puts a host on the public segment without NAT', async () => {
    lab = await createLab({ a: 'public', b: { mapping: 'preserve' } });
    expect(lab.natA).toBeUndefined();
    const [hostA, server] = await Promise.all([startProbe(lab, 'hostA'), startProbe(lab, 'server')]);
    await server.listen(SERVER_PORT);
    const s = seen(await hostA.dial(lab.server.alternateAddress, SERVER_PORT, { localPort: LOCAL_PORT }));
    expect(s).toEqual({ address: '203.0.113.21', port: LOCAL_PORT });
    expect(lab.natB?.wan).toBe('203.0.113.2');
  });

  it('loss adds wire-drop chains on both directions of the WAN device', async () => {
    lab = await createLab({ a: { loss: 0.25 }, b: 'public' });
    const ruleset = await lab.exec('natA', 'nft', ['list', 'table', 'netdev', 'lab_wire']);
    expect(ruleset).toContain('type filter hook ingress device "wan"');
    expect(ruleset).toContain('type filter hook egress device "wan"');
    expect(ruleset.match(/numgen random mod 1000000 < 250000 drop/g)).toHaveLength(2);
    expect(natRuleset(lab.natA!)).not.toContain('masquerade fully-random');
  });

  it('destroy removes every namespace, kills children, and is idempotent', async () => {
    const built = await createLab();
    expect(namespacesOf(built.prefix)).toHaveLength(6);
    const child = built.spawn('hostA', 'sleep', ['60']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await built.destroy();
    await built.destroy();
    await exited;
    expect(namespacesOf(built.prefix)).toEqual([]);
  });

  it('a failed bring-up leaves nothing behind', async () => {
    // A sequential range running past 65535 is refused before anything is built.
    await expect(createLab({ a: { mapping: 'sequential', sequentialBase: 65500 } })).rejects.toThrow(/range/);
    await expect(createLab({ a: { cgn: { cgn: {} } } })).rejects.toThrow(/carrier/);
    await expect(createLab({ lanIsolation: true })).rejects.toThrow(/same-NAT/);
  });
});
