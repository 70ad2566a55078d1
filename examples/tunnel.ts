/**
 * Reach a TCP service behind a NAT (say svnserve on port 3690) through one ICE-TCP connection.
 *
 * On the machine with the service:   npx tsx examples/tunnel.ts serve 127.0.0.1:3690 [--stun H:P]
 * On the machine that wants it:      npx tsx examples/tunnel.ts expose 13690 [--stun H:P]
 *                                    (port 0: any free port; the line `listening on 127.0.0.1:<port>` names it)
 *
 * Each side prints its a= lines and a blank line; paste them into the other side's stdin (the
 * copy-paste flow of `ice-tcp connect`). Then `svn co svn://127.0.0.1:13690/repo` on the second machine
 * talks to the first one's svnserve. One tunnel carries one TCP client connection.
 */
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { connectWithSignaller, IceAgent, SdpLineSignaller } from '../src/index.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { stun: { type: 'string', multiple: true }, bind: { type: 'string', multiple: true } },
});
const [mode, where] = positionals;
if ((mode !== 'serve' && mode !== 'expose') || where === undefined) {
  console.error('usage: tunnel.ts serve HOST:PORT | expose LOCAL_PORT  [--stun H:P]... [--bind IP]...');
  process.exit(2);
}
const stunServers = (values.stun ?? []).map((s) => {
  const [host = '', port = ''] = s.split(':');
  return { host, port: Number(port) };
});

const agent = new IceAgent({
  role: mode === 'expose' ? 'controlling' : 'controlled',
  stunServers,
  // default: every non-loopback address of this host
  ...(values.bind ? { addresses: values.bind } : {}),
});
const signaller = new SdpLineSignaller(process.stdin, process.stdout);
const ice = await connectWithSignaller(agent, signaller);
process.stdin.destroy();
console.error(`ice connected: ${ice.remoteCandidate.address}:${ice.remoteCandidate.port}`);
const iceStream = ice.stream();

let app: net.Socket;
if (mode === 'serve') {
  const [host = '127.0.0.1', port = ''] = where.split(':');
  // half-open, as the ICE stream is: a client that ends its request (nc -N) still gets the whole answer
  app = net.connect({ port: Number(port), host, allowHalfOpen: true });
} else {
  const server = net.createServer({ allowHalfOpen: true });
  // announced only once the port is bound: a client that connects on this line must not be refused
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(Number(where), '127.0.0.1', () => resolve());
  }).catch((err: Error) => {
    console.error(`cannot listen on 127.0.0.1:${where}: ${err.message}`);
    agent.close();
    process.exit(1);
  });
  console.error(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  app = await new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  server.close();
}
// both directions with backpressure; each ends on its own, the tunnel closes once both ended (or one failed)
await pipeline(app, iceStream, app).catch((err: Error) => console.error(`tunnel closed: ${err.message}`));
agent.close();
