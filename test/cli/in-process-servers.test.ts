import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InProcessRuns, runInProcess } from './in-process.js';

// stun-server, natcheck, rendezvous and demo run in this process; stop() is what SIGINT is to the binary.
const runs = new InProcessRuns();
afterEach(async () => {
  vi.unstubAllEnvs();
  await runs.settle();
});

describe('ice-tcp stun-server and natcheck in process', () => {
  it('stun-server --json reports where it listens; natcheck against it finds no NAT; stopping exits 0', async () => {
    const server = runs.start([
      'stun-server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--alt-port',
      '0',
      '--json',
    ]);
    const listening = await server.waitFor('listening');
    const primary = listening.primary as { host: string; port: number };
    expect(primary).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
    expect(listening.alternate).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
    const stun = `${primary.host}:${primary.port}`;

    const json = await runInProcess(['natcheck', '--stun', stun, '--bind', '127.0.0.1', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ behindNat: false, portPreservation: true });

    const text = await runInProcess(['natcheck', '--stun', stun]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^behind NAT: +no$/m);
    expect(text.stdout).toMatch(/^port preservation: +yes$/m);
    expect(text.stdout).toMatch(/^traversal: +direct connections are likely/m);
    expect(text.stdout).toMatch(
      new RegExp(`^ {2}\\d+ -> ${primary.host}:${primary.port}: 127\\.0\\.0\\.1:\\d+$`, 'm'),
    );

    server.stop();
    expect(await server.done).toBe(0);
  });

  it('stun-server in text, with its policy flags: one line per endpoint', async () => {
    const server = runs.start([
      'stun-server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--alt-port',
      '0',
      '--max-connections',
      '4',
      '--max-connections-per-ip',
      '2',
      '--request-timeout-ms',
      '500',
      '--idle-timeout-ms',
      '1000',
      '--udp-amplification',
      '2.5',
      '--software',
      'in-process test',
    ]);
    await server.waitForLine(/^alternate endpoint 127\.0\.0\.1:\d+$/);
    expect(server.stdout).toMatch(/^STUN server \(TCP and UDP\) on 127\.0\.0\.1:\d+$/m);
    server.stop();
    expect(await server.done).toBe(0);
  });

  it('a port in use: a typed error, exit 1', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = busy.address() as net.AddressInfo;
      const r = await runInProcess(['stun-server', '--host', '127.0.0.1', '--port', String(port), '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ event: 'error', code: 'ERR_SOCKET' });
    } finally {
      busy.close();
    }
  });

  it('natcheck against a server that is not there: a typed error, exit 1', async () => {
    // port 1 on loopback: refused at once
    const r = await runInProcess(['natcheck', '--stun', '127.0.0.1:1', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: 'error', code: expect.stringMatching(/^ERR_/) });
  });
});

describe('ice-tcp rendezvous in process', () => {
  it('connect --rendezvous: two runs meet in a room with the token from the environment', async () => {
    const server = runs.start([
      'rendezvous',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--token',
      's3cret',
      '--json',
    ]);
    const listening = await server.waitFor('listening');
    expect(listening).toMatchObject({ token: true, redis: null });
    const url = (listening.url as string).replace('<room>', 'in-process');
    vi.stubEnv('ICE_TCP_RENDEZVOUS_TOKEN', 's3cret');
    const n = 65536;
    const common = ['--bind', '127.0.0.1', '--timeout', '20', '--rendezvous', url];
    const a = runs.start(['connect', '--controlling', ...common, '--send-bytes', String(n)]);
    const b = runs.start(['connect', '--controlled', ...common, '--expect-bytes', String(n)]);
    expect((await b.waitFor('done')).receivedBytes).toBe(n);
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);

    vi.stubEnv('ICE_TCP_RENDEZVOUS_TOKEN', 'wrong');
    const refused = runs.start(['connect', ...common, '--send-bytes', '1']);
    await expect(refused.waitFor('connected')).rejects.toThrow(/"code":"ERR_SIGNALLING".*unauthorized/);
    expect(await refused.done).toBe(1);

    server.stop();
    expect(await server.done).toBe(0);
    expect(server.events().at(-1)).toEqual({ event: 'closed' });
  });

  it('in text it says where it listens and that a token is required', async () => {
    const server = runs.start(['rendezvous', '--host', '127.0.0.1', '--port', '0', '--token', 'x']);
    await server.waitForLine(/^rendezvous listening on ws:\/\/127\.0\.0\.1:\d+\/<room> \(token required\)$/);
    server.stop();
    expect(await server.done).toBe(0);
  });
});

describe('ice-tcp demo in process', () => {
  it('--json: every step, a host pair on loopback, the bytes both ways', async () => {
    const r = await runInProcess(['demo', '--json', '--bytes', '65536']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: Array<Record<string, unknown>> };
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(['gathered', 'nominated', 'data exchanged']),
    );
    expect(report.steps.find((s) => s.step === 'nominated')?.local).toMatchObject({
      type: 'host',
      address: '127.0.0.1',
    });
    expect(report.steps.find((s) => s.step === 'data exchanged')?.bytesEachWay).toBe(65536);
  });

  it('in text: one timed line per step', async () => {
    const r = await runInProcess(['demo', '--bytes', '0', '--bind', '127.0.0.1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[ *[\d.]+ ms\] gathered: \d+ candidates each side$/m);
    expect(r.stdout).toMatch(
      /^\[ *[\d.]+ ms\] nominated: host\/\w+ 127\.0\.0\.1:\d+ -> host\/\w+ 127\.0\.0\.1:\d+$/m,
    );
    expect(r.stdout).toMatch(/^\[ *[\d.]+ ms\] data exchanged: 0 bytes each way/m);
  });
});
