import net from 'node:net';
import { IceAgent, type IceAgentOptions, type IceConnection } from '../../src/index.js';

/** A byte relay between the two agents of a test: it can freeze both directions, or act as the peer's socket. */
export interface Proxy {
  /** Stops reading both ways: bytes pile up in the kernel as behind a stopped (SIGSTOP) peer. */
  freeze(): void;
  /** Reads again: what piled up is delivered in order. */
  thaw(): void;
  /** The socket facing the passive agent (alice): what the "peer" does to it, alice's connection sees. */
  towardsAlice(): net.Socket;
  close(): void;
}

/** Two connected agents whose only path goes through a {@link Proxy}. */
export interface ProxiedPair {
  alice: IceAgent;
  bob: IceAgent;
  ca: IceConnection;
  cb: IceConnection;
  proxy: Proxy;
  close(): void;
}

/**
 * alice (controlled, passive only) and bob (controlling, active only) on 127.0.0.1, signalled by hand, with
 * alice's passive candidate rewritten to the proxy's port: bob's connection goes through the proxy, which
 * dials alice's real port.
 */
export async function proxiedPair(extra: IceAgentOptions): Promise<ProxiedPair> {
  const alice = new IceAgent({
    role: 'controlled',
    addresses: ['127.0.0.1'],
    tcpTypes: ['passive'],
    ...extra,
  });
  const bob = new IceAgent({ role: 'controlling', addresses: ['127.0.0.1'], tcpTypes: ['active'], ...extra });
  const sockets: net.Socket[] = [];
  let target = 0;
  let frozen = false;
  // half-open both ways, so that each side's FIN is relayed on its own
  const server = net.createServer({ allowHalfOpen: true }, (fromBob) => {
    const toAlice = net.connect({ host: '127.0.0.1', port: target, allowHalfOpen: true });
    sockets.push(fromBob, toAlice);
    for (const s of [fromBob, toAlice]) s.on('error', () => {});
    fromBob.on('data', (d) => toAlice.write(d));
    toAlice.on('data', (d) => fromBob.write(d));
    fromBob.on('end', () => toAlice.end());
    toAlice.on('end', () => fromBob.end());
    fromBob.on('close', () => toAlice.destroy());
    toAlice.on('close', () => fromBob.destroy());
    if (frozen) {
      fromBob.pause();
      toAlice.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyPort = (server.address() as net.AddressInfo).port;
  alice.on('candidate', (c) => {
    if (c === null) bob.addRemoteCandidate(null);
    else {
      target = c.port;
      bob.addRemoteCandidate({ ...c, port: proxyPort });
    }
  });
  bob.on('candidate', (c) => alice.addRemoteCandidate(c));
  alice.setRemoteParameters(bob.localParameters);
  bob.setRemoteParameters(alice.localParameters);
  const close = () => {
    alice.close();
    bob.close();
    for (const s of sockets) s.destroy();
    server.close();
  };
  try {
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const proxy: Proxy = {
      freeze() {
        frozen = true;
        for (const s of sockets) s.pause();
      },
      thaw() {
        frozen = false;
        for (const s of sockets) s.resume();
      },
      towardsAlice() {
        const s = sockets.find((x) => x.remotePort === target && !x.destroyed);
        if (!s) throw new Error('no live connection towards alice');
        return s;
      },
      close,
    };
    return { alice, bob, ca, cb, proxy, close };
  } catch (err) {
    close();
    throw err;
  }
}
