import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/index.js';

/**
 * Signalling is not ordered with the wire: the controlling side's checks, nomination included, can reach the
 * controlled side before the controlling side's parameters do.
 */
const agents: IceAgent[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.close();
});

describe('parameters that arrive after the checks', () => {
  for (const delayMs of [0, 100, 400]) {
    it(`the controlled side still connects when the peer's parameters come ${delayMs} ms late`, async () => {
      const options = { addresses: ['127.0.0.1'], tcpTypes: ['active' as const, 'passive' as const] };
      const alice = new IceAgent({ ...options, role: 'controlling' });
      const bob = new IceAgent({ ...options, role: 'controlled' });
      agents.push(alice, bob);
      await Promise.all([alice.gather(), bob.gather()]);
      const bobConnected = bob.connect();
      bobConnected.catch(() => {});
      // bob learns alice's candidates and end-of-candidates, but not yet her ufrag/pwd
      alice.setRemoteDescription(bob.localDescription());
      const aliceConnection = await alice.connect();
      expect(aliceConnection).toBeDefined();
      await new Promise((r) => setTimeout(r, delayMs));
      bob.setRemoteDescription(alice.localDescription());
      const bobConnection = await bobConnected;
      expect(bobConnection.remoteCandidate.tcpType).toBeDefined();
    });
  }

  for (const delayMs of [100, 400, 3000]) {
    it(`the controlled side's checks succeed while the controlling side learns its parameters ${delayMs} ms late`, async () => {
      const options = {
        addresses: ['127.0.0.1'],
        tcpTypes: ['active' as const, 'passive' as const, 'so' as const],
      };
      const alice = new IceAgent({ ...options, role: 'controlling' });
      const bob = new IceAgent({ ...options, role: 'controlled' });
      agents.push(alice, bob);
      await Promise.all([alice.gather(), bob.gather()]);
      const both = Promise.all([alice.connect(), bob.connect()]);
      both.catch(() => {});
      bob.setRemoteDescription(alice.localDescription());
      await new Promise((r) => setTimeout(r, delayMs));
      alice.setRemoteDescription(bob.localDescription());
      const [a, b] = await both;
      expect(a.remoteCandidate.address).toBe(b.localCandidate.address);
    }, 20_000);
  }
});
