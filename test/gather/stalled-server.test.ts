import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/agent.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { probeNat } from '../../src/gather/nat-probe.js';
import { kernelSockets, stalledPort } from '../transport/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function synSentTo(port: number): Promise<number> {
  return (await kernelSockets()).filter((s) => s.remotePort === port && s.state === 'SYN_SENT').length;
}

/**
 * Issue 8 item 4: with a STUN server that drops SYNs, the timed-out connect stayed in SYN_SENT without an
 * 'error' listener (even after agent.close()) until the kernel's ETIMEDOUT crashed the process ~135 s later.
 * The stalled listener drops SYNs; what is checked is that nothing is left to fail later.
 */
describe('a STUN server that drops SYNs', () => {
  it('gathering gives up at gatherTimeoutMs and leaves no connect pending', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const before = await synSentTo(stalled.port);
    const agent = new IceAgent({
      addresses: ['127.0.0.1'],
      tcpTypes: ['so'],
      stunServers: [{ host: '127.0.0.1', port: stalled.port }],
      gatherTimeoutMs: 150,
    });
    cleanups.push(() => agent.close());
    agent.on('error', () => {});
    await agent.gather();
    expect(await synSentTo(stalled.port)).toBe(before);
  });

  it('natcheck (probeNat) fails with a typed error and leaves no connect pending', async () => {
    const stalled = await stalledPort();
    cleanups.push(() => stalled.close());
    const before = await synSentTo(stalled.port);
    const probe = probeNat({ servers: [{ host: '127.0.0.1', port: stalled.port }], timeoutMs: 150 });
    await expect(probe).rejects.toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'ETIMEDOUT' });
    expect(await synSentTo(stalled.port)).toBe(before);
  });

  it('probeNat without a server is an InvalidArgumentError, not a RangeError', async () => {
    await expect(probeNat({ servers: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
