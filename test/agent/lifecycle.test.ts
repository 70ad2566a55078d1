import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, InvalidArgumentError } from '../../src/index.js';

/** A closed or aborted agent answers every call at once, with a typed error; nothing waits for a timer. */
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const remote = { ufrag: 'peer', pwd: 'peerpassword0123456789abc' };
const line = 'candidate:1 1 TCP 2128609279 127.0.0.1 9999 typ host tcptype passive';

/** A STUN server that accepts the connection and never answers: gathering waits for gatherTimeoutMs. */
async function silentStunServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function settledWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

describe('a closed agent', () => {
  it('rejects connect() at once with ERR_CLOSED', async () => {
    const agent = new IceAgent({ addresses: ['127.0.0.1'] });
    agent.close();
    const outcome = agent.connect();
    await expect(settledWithin(outcome, 100)).resolves.toBe('settled');
    await expect(outcome).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('refuses remote parameters, candidates, descriptions and gathering with ERR_CLOSED', async () => {
    const agent = new IceAgent({ addresses: ['127.0.0.1'] });
    agent.close();
    const closed = expect.objectContaining({ code: 'ERR_CLOSED' });
    expect(() => agent.setRemoteParameters(remote)).toThrow(closed);
    expect(() => agent.addRemoteCandidate(line)).toThrow(closed);
    expect(() => agent.addRemoteCandidate(null)).toThrow(closed);
    expect(() =>
      agent.setRemoteDescription([`a=ice-ufrag:${remote.ufrag}`, `a=ice-pwd:${remote.pwd}`]),
    ).toThrow(closed);
    await expect(agent.gather()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('close() during STUN gathering settles gather() and connect() within a few ms, not gatherTimeoutMs', async () => {
    const port = await silentStunServer();
    const agent = new IceAgent({
      addresses: ['127.0.0.1'],
      stunServers: [{ host: '127.0.0.1', port }],
      gatherTimeoutMs: 20_000,
    });
    const gathering = agent.gather();
    const connecting = agent.connect();
    connecting.catch(() => {}); // asserted below, after the gathering
    await new Promise((r) => setTimeout(r, 100));
    agent.close();
    await expect(settledWithin(gathering, 500)).resolves.toBe('settled');
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(gathering).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});

describe('an aborted agent', () => {
  it('ends gathering and connect() within a few ms with ERR_ABORTED carrying signal.reason', async () => {
    const port = await silentStunServer();
    const controller = new AbortController();
    const agent = new IceAgent({
      addresses: ['127.0.0.1'],
      stunServers: [{ host: '127.0.0.1', port }],
      gatherTimeoutMs: 20_000,
      signal: controller.signal,
    });
    cleanups.push(() => agent.close());
    const gathering = agent.gather();
    const connecting = agent.connect();
    connecting.catch(() => {}); // asserted below, after the gathering
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error('user hung up');
    controller.abort(reason);
    await expect(settledWithin(gathering, 500)).resolves.toBe('settled');
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    await expect(gathering).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    await expect(agent.connect()).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
  });

  it('an already aborted signal fails connect() with its reason', async () => {
    const reason = new Error('never mind');
    const agent = new IceAgent({ addresses: ['127.0.0.1'], signal: AbortSignal.abort(reason) });
    cleanups.push(() => agent.close());
    await expect(agent.connect()).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
  });
});

describe('bad options fail in the constructor', () => {
  it.each([
    [{ addresses: ['not-an-ip'] }, /addresses/],
    [{ addresses: [] }, /addresses/],
    [{ addresses: '127.0.0.1' as never }, /addresses/],
    [{ signal: {} as never }, /signal/],
  ])('%j', (options, naming) => {
    let thrown: unknown;
    try {
      new IceAgent(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as Error).message).toMatch(naming);
  });
});
