import { IceAgent, type IceAgentOptions } from '../../src/index.js';
import { attachSignaller } from '../../src/signalling/attach.js';
import { createInMemorySignallerPair } from '../../src/signalling/in-memory.js';

/** A server agent and a client agent, signalled to each other in memory. */
export interface AgentPair {
  srv: IceAgent;
  cli: IceAgent;
}

/**
 * A passive server agent (controlled; `server` says where it listens: `mux`, or a port of its own) and an active
 * client agent (controlling), on loopback unless the options say otherwise, signalled in memory. `server.mux` is
 * the server's alone; the rest of `server` goes to both, `client` to the client only.
 */
export function muxPair(server: IceAgentOptions, client: IceAgentOptions = {}): AgentPair {
  const { mux: _mux, ...shared } = server;
  const srv = new IceAgent({
    addresses: ['127.0.0.1'],
    ...server,
    role: 'controlled',
    tcpTypes: ['passive'],
  });
  const cli = new IceAgent({
    addresses: ['127.0.0.1'],
    ...shared,
    ...client,
    role: 'controlling',
    tcpTypes: ['active'],
  });
  const [a, b] = createInMemorySignallerPair();
  attachSignaller(srv, a);
  attachSignaller(cli, b);
  return { srv, cli };
}

/** Both connect, and one packet goes from client to server. */
export async function connectAndPing({ srv, cli }: AgentPair): Promise<void> {
  const [c, s] = await Promise.all([cli.connect(), srv.connect()]);
  const got = new Promise((resolve) => s.once('packet', resolve));
  c.send(Buffer.from('x'));
  await got;
}
