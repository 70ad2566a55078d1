/**
 * A complete offer/answer through a rendezvous server: both peers open the same room on a WebSocket server
 * and `connectWithSignaller` does the rest (parameters, trickled candidates, end-of-candidates, both ways).
 *
 *   npx tsx examples/rendezvous.ts                      # server, offerer and answerer in one process
 *
 * Across two machines, run the server where both can reach it, then one peer on each machine:
 *
 *   ice-tcp rendezvous --host 0.0.0.0 --port 8443 --token s3cret
 *   ICE_TCP_RENDEZVOUS_TOKEN=s3cret npx tsx examples/rendezvous.ts offer  ws://rdv.example:8443/my-room
 *   ICE_TCP_RENDEZVOUS_TOKEN=s3cret npx tsx examples/rendezvous.ts answer ws://rdv.example:8443/my-room
 */
import { connectWithSignaller, IceAgent, type IceConnection, WebSocketSignaller } from '../src/index.js';
import { RendezvousServer } from '../src/rendezvous/index.js';

const [mode = 'both', url] = process.argv.slice(2);
const token = process.env.ICE_TCP_RENDEZVOUS_TOKEN ?? 'example-secret';

/** One peer: join the room, connect, then the offerer says hello and the answerer replies in upper case. */
async function peer(role: 'offer' | 'answer', roomUrl: string, local: boolean): Promise<string> {
  const signaller = await WebSocketSignaller.connect(roomUrl, { token });
  const agent = new IceAgent({
    role: role === 'offer' ? 'controlling' : 'controlled',
    ...(local ? { addresses: ['127.0.0.1'] } : {}),
  });
  agent.on('error', (err) => console.error(`${role}: ${err.code} ${err.message}`));
  try {
    const conn: IceConnection = await connectWithSignaller(agent, signaller);
    signaller.close(); // ICE needs no signalling once connected
    const stream = conn.stream();
    if (role === 'answer') {
      const line = await new Promise<string>((resolve) =>
        stream.once('data', (d: Buffer) => resolve(d.toString())),
      );
      await new Promise<void>((resolve) => stream.end(line.toUpperCase(), resolve));
      return line;
    }
    stream.write('hello through the rendezvous');
    const reply = await new Promise<string>((resolve) =>
      stream.once('data', (d: Buffer) => resolve(d.toString())),
    );
    return reply;
  } finally {
    signaller.close();
    agent.close();
  }
}

if (mode === 'both') {
  const server = await RendezvousServer.start({ token });
  const room = server.url('example-room');
  const [reply] = await Promise.all([peer('offer', room, true), peer('answer', room, true)]);
  console.log(`offerer got: ${reply}`);
  await server.close();
} else if ((mode === 'offer' || mode === 'answer') && url) {
  console.log(`${mode}: ${await peer(mode, url, false)}`);
} else {
  console.error('usage: rendezvous.ts [offer|answer ws://host:port/room]');
  process.exit(2);
}
