import { afterEach, describe, expect, it } from 'vitest';
import { missingForNetns, requireOrSkip } from '../support/require.js';
import { downloadThroughTunnel, stopTunnelLab, type TunnelLab } from './through-tunnel.js';

const ok = requireOrSkip(
  'tunnel across the NAT lab (test/tunnel/lab.test.ts)',
  missingForNetns(['nft', 'sysctl']),
);
const TOTAL = 100 * 1024 * 1024;
const STREAMS = 20;

const run: TunnelLab = { peers: [] };
afterEach(() => stopTunnelLab(run));

describe.skipIf(!ok)('ice-tcp tunnel across the NAT lab', () => {
  it('100 MB in 20 parallel streams from a service behind one NAT to a client behind another, direct', async () => {
    const r = await downloadThroughTunnel(
      run,
      { a: { mapping: 'preserve' }, b: { mapping: 'preserve' } },
      { withTurn: false, streams: STREAMS, total: TOTAL },
    );
    console.log(
      `tunnel direct: ${r.ok}/${STREAMS} streams, ${r.bytes} bytes in ${r.seconds.toFixed(1)} s (${r.local}/${r.remote})`,
    );
    expect(r.ok).toBe(STREAMS);
    expect(r.bytes).toBe(Math.floor(TOTAL / STREAMS) * STREAMS);
    expect([r.local, r.remote]).not.toContain('relay');
  });

  it('the same through a relay-only cell (random mapping on both sides, coturn)', async () => {
    const r = await downloadThroughTunnel(
      run,
      { a: { mapping: 'random' }, b: { mapping: 'random' } },
      { withTurn: true, streams: STREAMS, total: TOTAL },
    );
    console.log(
      `tunnel relayed: ${r.ok}/${STREAMS} streams, ${r.bytes} bytes in ${r.seconds.toFixed(1)} s (${r.local}/${r.remote})`,
    );
    expect(r.ok).toBe(STREAMS);
    expect([r.local, r.remote]).toContain('relay');
  });
});
