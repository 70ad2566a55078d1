import { afterEach, describe, expect, it } from 'vitest';
import { patternSha256 } from '../../src/cli/pattern.js';
import { RendezvousServer } from '../../src/rendezvous/server.js';
import { CliPeers } from '../support/line-peer.js';

const peers = new CliPeers();
let server: RendezvousServer | undefined;
afterEach(async () => {
  peers.killAll();
  await server?.close();
  server = undefined;
});

describe('connect --rendezvous URL', () => {
  it('two processes meet in a room of the rendezvous server instead of copy-paste', async () => {
    server = await RendezvousServer.start({ token: 'cli-secret' });
    process.env.ICE_TCP_RENDEZVOUS_TOKEN = 'cli-secret';
    const url = server.url('cli-room');
    const n = 1024 * 1024;
    const a = peers.spawn([
      'connect',
      '--controlling',
      '--bind',
      '127.0.0.1',
      '--rendezvous',
      url,
      '--send-bytes',
      String(n),
    ]);
    const b = peers.spawn([
      'connect',
      '--controlled',
      '--bind',
      '127.0.0.1',
      '--rendezvous',
      url,
      '--expect-bytes',
      String(n),
      '--sha256',
    ]);
    delete process.env.ICE_TCP_RENDEZVOUS_TOKEN;
    const done = await b.waitFor('done');
    expect(done.sha256Received).toBe(patternSha256(n));
    expect(await a.exited()).toBe(0);
    expect(await b.exited()).toBe(0);
  });

  it('a wrong token is a typed failure, exit 1', async () => {
    server = await RendezvousServer.start({ token: 'cli-secret' });
    const a = peers.spawn([
      'connect',
      '--bind',
      '127.0.0.1',
      '--rendezvous',
      server.url('r'),
      '--send-bytes',
      '1',
    ]);
    // waitFor('error') rejects with the reported error event
    const reported = await a.waitFor('connected').then(
      () => 'connected',
      (e: Error) => e.message,
    );
    expect(reported).toMatch(/"code":"ERR_SIGNALLING".*unauthorized/);
    expect(await a.exited()).toBe(1);
  });
});
