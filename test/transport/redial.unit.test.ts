import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { SocketError } from '../../src/errors.js';
import type { OpenSocketOptions } from '../../src/transport/open-socket.js';
import { openWithRedials, redialAttempts, SERVER_REDIAL_SCHEDULE_MS } from '../../src/transport/redial.js';

const socket = { fake: true } as unknown as net.Socket;
const timedOut = () => new SocketError('timed out', 'ETIMEDOUT');

/** An opener that fails with `errors` in turn, then connects; it records what each attempt was asked. */
function opener(errors: Error[]) {
  const calls: OpenSocketOptions[] = [];
  const open = async (o: OpenSocketOptions) => {
    calls.push(o);
    const error = errors[calls.length - 1];
    if (error) throw error;
    return socket;
  };
  return { calls, open };
}

const base = {
  host: '203.0.113.10',
  port: 3478,
  localAddress: '10.0.1.2',
  localPort: 40000,
  timeoutMs: 3000,
  label: 'connect to 203.0.113.10:3478',
};

describe('openWithRedials: fresh SYNs to a server from one local port', () => {
  it('cuts the schedule to the budget and gives the rest to the last attempt', () => {
    expect(redialAttempts(3000, SERVER_REDIAL_SCHEDULE_MS)).toEqual([300, 600, 1200, 900]);
    expect(redialAttempts(1000, SERVER_REDIAL_SCHEDULE_MS)).toEqual([300, 600, 100]);
    expect(redialAttempts(250, SERVER_REDIAL_SCHEDULE_MS)).toEqual([250]);
    expect(redialAttempts(10_000, [])).toEqual([10_000]);
  });

  it('survives three lost SYNs within 3 s, every attempt from the same address and port', async () => {
    const { calls, open } = opener([timedOut(), timedOut(), timedOut()]);
    await expect(openWithRedials(base, open)).resolves.toBe(socket);
    expect(calls.map((c) => c.timeoutMs)).toEqual([300, 600, 1200, 900]);
    for (const c of calls)
      expect(c).toMatchObject({ localAddress: '10.0.1.2', localPort: 40000, port: 3478 });
  });

  it('times out as a whole once every attempt went unanswered', async () => {
    const { calls, open } = opener([timedOut(), timedOut(), timedOut(), timedOut()]);
    const error = await openWithRedials(base, open).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({
      syscallCode: 'ETIMEDOUT',
      message: expect.stringMatching(/3000 ms \(4 SYNs\)/),
    });
    expect(calls).toHaveLength(4);
  });

  it('does not redial a server that refused, nor after an abort', async () => {
    const refused = new SocketError('refused', 'ECONNREFUSED');
    const first = opener([refused]);
    await expect(openWithRedials(base, first.open)).rejects.toBe(refused);
    expect(first.calls).toHaveLength(1);
    const controller = new AbortController();
    const second = opener([timedOut()]);
    controller.abort();
    await expect(openWithRedials({ ...base, signal: controller.signal }, second.open)).rejects.toMatchObject({
      syscallCode: 'ETIMEDOUT',
    });
    expect(second.calls).toHaveLength(1);
  });
});
