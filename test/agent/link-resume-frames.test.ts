import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildKeepalive } from '../../src/agent/check-messages.js';
import { Link, type LinkOwner } from '../../src/agent/link.js';
import { encodeResumeControl } from '../../src/connection/resume-wire.js';
import { shortTermKey } from '../../src/stun/index.js';
import { FramedConnection } from '../../src/transport/index.js';

/**
 * The stream-resume protocol's messages are signed Binding indications, like ICE's keepalives; the link must not
 * take them as ICE's: a peer's RESUME can reach a new path's link before our own nomination hands it off.
 */

const PEER_KEY = shortTermKey('peerpasswordpeerpassword');
let sockets: net.Socket[] = [];
let server: net.Server | undefined;
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets = [];
  server?.close();
});

async function connectionPair(): Promise<{ ours: FramedConnection; theirs: FramedConnection }> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer(resolve);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const address = server?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const client = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => client.once('connect', r));
  const peer = await accepted;
  sockets.push(client, peer);
  return { ours: new FramedConnection(client), theirs: new FramedConnection(peer) };
}

/** An authenticated link whose owner takes every message signed with the peer's key as ICE's own. */
function link(ours: FramedConnection): Link {
  const owner: LinkOwner = {
    onRequest: () => undefined,
    isOwnMessage: (m) => m.hasIntegrity() && m.verifyIntegrity(PEER_KEY),
    onDataBeforeSelection: () => 'hold',
    onLinkClosed: () => undefined,
    onInputDropped: () => undefined,
  };
  const l = new Link(ours, 'L1', undefined, owner);
  l.authenticated = true;
  return l;
}

describe('resume indications on a link', () => {
  it('before hand-off a RESUME is held with the data for the stream, while a keepalive stays ICE’s', async () => {
    const { ours, theirs } = await connectionPair();
    const l = link(ours);
    const resume = encodeResumeControl({ kind: 'resume', bytes: 1234 }, PEER_KEY);
    // the link listens first: once our listener saw both frames, the link has judged them
    let seen = 0;
    const arrived = new Promise((r) => ours.on('frame', () => ++seen === 2 && r(undefined)));
    theirs.sendFrame(buildKeepalive(PEER_KEY));
    theirs.sendFrame(resume);
    await arrived;
    expect(l.takeHeldFrames()).toEqual([resume]);
  });

  it('after hand-off the connection asks, and a RESUME is not ICE’s', async () => {
    const { ours } = await connectionPair();
    const l = link(ours);
    l.handedOff = true;
    expect(l.handleControlFrame(encodeResumeControl({ kind: 'ack', bytes: 1 }, PEER_KEY))).toBe(false);
    expect(l.handleControlFrame(buildKeepalive(PEER_KEY))).toBe(true);
  });
});
