import { afterEach, describe, expect, it } from 'vitest';
import { describeAllocation } from '../../src/cli/natcheck.js';
import { StunServer } from '../../src/server/index.js';
import { runCli } from './run-cli.js';

let server: StunServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('ice-tcp natcheck on a host with no NAT', () => {
  it('says "behind NAT: no" without --bind, as with it', async () => {
    // before: "yes" without --bind: the local address was read after the probe socket had been reset
    server = await StunServer.start({ host: '127.0.0.1', port: 0 });
    const stun = `127.0.0.1:${server.primary.port}`;
    const [plain, bound] = await Promise.all([
      runCli(['natcheck', '--stun', stun]),
      runCli(['natcheck', '--stun', stun, '--bind', '127.0.0.1']),
    ]);
    for (const r of [plain, bound]) {
      expect(r).not.toBe('hung');
      if (r === 'hung') return;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^behind NAT: +no$/m);
    }
  });
});

describe('ice-tcp natcheck: the port allocation line', () => {
  it('names a port-range NAT with the span the probes saw, a sequential one with its delta', () => {
    expect(describeAllocation({ kind: 'range', low: 20001, high: 20009 })).toBe(
      'range (a random port per connection), ports 20001-20009 seen',
    );
    expect(describeAllocation({ kind: 'sequential', delta: -2 })).toBe('sequential, delta -2');
    expect(describeAllocation({ kind: 'random' })).toBe('random');
  });
});
