import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/index.js';
import { StunServer } from '../../src/server/index.js';
import {
  attachSignaller,
  createInMemorySignallerPair,
  type SignalMessage,
} from '../../src/signalling/index.js';

let server: StunServer | undefined;
const agents: IceAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await server?.close();
  server = undefined;
});

describe('the agent advertises the NAT behaviour gathering measured (a=x-ice-tcp-nat)', () => {
  it('a STUN server that sees our host address itself: no-nat, in the parameters and the description, once gathered', async () => {
    server = await StunServer.start({ host: '127.0.0.1' });
    const agent = new IceAgent({
      addresses: ['127.0.0.1'],
      tcpTypes: ['so', 'passive'],
      stunServers: [{ host: '127.0.0.1', port: server.primary.port }],
    });
    agents.push(agent);
    agent.on('error', () => undefined);
    expect(agent.localParameters.nat).toBeUndefined();
    const [ours, theirs] = createInMemorySignallerPair();
    const sent: SignalMessage[] = [];
    theirs.onMessage((m) => sent.push(m));
    attachSignaller(agent, ours);
    await agent.gather();
    expect(agent.localParameters.nat).toEqual(['no-nat']);
    expect(agent.localDescription()).toContain('a=x-ice-tcp-nat:no-nat');
    await new Promise((r) => setImmediate(r));
    // the credentials again, with the profile, just before end-of-candidates
    expect(sent.slice(-2)).toEqual([
      { type: 'parameters', ...agent.localParameters },
      { type: 'end-of-candidates' },
    ]);
  });
});
