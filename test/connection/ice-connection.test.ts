import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError, IceTcpError } from '../../src/errors.js';
import { nextEvent } from '../transport/helpers.js';
import { connectionPair, countUntilEnd, valueAfter, writeBytes } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function pair() {
  const p = await connectionPair();
  cleanups.push(() => {
    p.a.reset();
    p.b.reset();
    p.close();
  });
  return p;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/pipe-reset.ts', import.meta.url));

describe('IceConnection stream: a dead connection is reported like net.Socket does', () => {
  it('writing after the peer reset neither throws nor hangs: error, close, failed write callback', async () => {
    const { a, server } = await pair();
    const stream = a.stream();
    const events: string[] = [];
    const errors: Error[] = [];
    stream.on('error', (error) => {
      events.push('error');
      errors.push(error);
    });
    const closed = nextEvent(stream, 'close').then(() => events.push('close'));
    server.resetAndDestroy();
    await nextEvent(a, 'close');
    const written = new Promise<Error | null | undefined>((resolve) => {
      stream.write(Buffer.from('too late'), resolve);
    });
    expect(await Promise.race([written, valueAfter(2000, 'hung' as const)])).toBeInstanceOf(Error);
    await Promise.race([closed, valueAfter(2000, 'hung')]);
    expect(events).toEqual(['error', 'close']);
    expect(errors[0]).toBeInstanceOf(IceTcpError);
    expect(errors[0]).toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'ECONNRESET' });
  });

  it('a writer waiting for drain gets an error when the peer resets, then error and close', async () => {
    const { a, server } = await pair();
    server.pause();
    const stream = a.stream();
    const events: string[] = [];
    stream.on('error', () => events.push('error'));
    stream.on('close', () => events.push('close'));
    const chunk = Buffer.alloc(65536, 1);
    let writes = 0;
    while (stream.write(chunk)) {
      if (++writes > 10_000) throw new Error('never saw backpressure');
    }
    // write() said false and the kernel buffers are full: this callback waits for a drain that never comes
    const pending = new Promise<Error | null | undefined>((resolve) => stream.write(chunk, resolve));
    server.resetAndDestroy();
    const outcome = await Promise.race([pending, valueAfter(3000, 'hung' as const)]);
    expect(outcome).toBeInstanceOf(IceTcpError);
    if (!stream.closed) await Promise.race([nextEvent(stream, 'close'), valueAfter(2000, 'hung')]);
    expect(events).toEqual(['error', 'close']);
  });

  it('IceConnection.reset() destroys the stream without an error; the peer sees one', async () => {
    const { a, b } = await pair();
    const sa = a.stream();
    const sb = b.stream();
    const localErrors: Error[] = [];
    sa.on('error', (e) => localErrors.push(e));
    const peerError = nextEvent<[Error]>(sb, 'error');
    const localClose = nextEvent(sa, 'close').then(() => 'closed');
    a.reset();
    expect(await Promise.race([localClose, valueAfter(3000, 'hung')])).toBe('closed');
    expect(localErrors).toEqual([]);
    expect((await Promise.race([peerError, valueAfter(3000, ['hung'])]))[0]).toBeInstanceOf(IceTcpError);
  });

  it('destroy() while the peer still sends: the peer gets a reset, both sides close, nothing lingers', async () => {
    const { a, b } = await pair();
    const sa = a.stream();
    const sb = b.stream();
    sa.resume();
    const peerError = new Promise<Error>((resolve) => sb.once('error', resolve));
    const closes = Promise.all([nextEvent(a, 'close'), nextEvent(b, 'close')]).then(() => 'closed');
    const chunk = Buffer.alloc(65536, 2);
    const writer = setInterval(() => {
      if (sb.writable) sb.write(chunk);
    }, 1);
    cleanups.push(() => clearInterval(writer));
    await valueAfter(50, undefined);
    sa.destroy();
    expect(await Promise.race([peerError, valueAfter(3000, 'hung')])).toBeInstanceOf(IceTcpError);
    expect(await Promise.race([closes, valueAfter(3000, 'hung')])).toBe('closed');
  });

  for (const mode of ['pipe', 'pipeline'] as const) {
    it(`socket.${mode}(conn.stream()) survives a peer reset mid-transfer (child process)`, () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.stderr).not.toMatch(/Uncaught|Error: /);
      expect(run.status).toBe(0);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(result.survived).toBe(true);
      if (mode === 'pipeline') expect(result.pipelineError).toBe('ERR_SOCKET');
    });
  }
});

describe('IceConnection half-close: each direction ends on its own', () => {
  it('stream: the peer ends first, we then send 8 MiB: the peer gets all of it, then both close', async () => {
    const { a, b } = await pair();
    const sa = a.stream();
    const sb = b.stream();
    const closes = Promise.all([nextEvent(a, 'close'), nextEvent(b, 'close')]);
    const atA = countUntilEnd(sa);
    sa.end();
    const bSawEnd = await Promise.race([countUntilEnd(sb), valueAfter(3000, -1)]);
    expect(bSawEnd).toBe(0);
    expect(b.closed).toBe(false);
    const n = 8 * 1024 * 1024;
    await writeBytes(sb, n, true);
    expect(await atA).toBe(n);
    expect(await Promise.race([closes.then(() => 'closed'), valueAfter(3000, 'hung')])).toBe('closed');
  });

  it('packet mode: after our close() the peer still sends; end, then close when it closes too', async () => {
    const { a, b } = await pair();
    const packets: string[] = [];
    a.on('packet', (p) => packets.push(p.toString()));
    const bEnded = nextEvent(b, 'end');
    const aEnded = nextEvent(a, 'end');
    const closes = Promise.all([nextEvent(a, 'close'), nextEvent(b, 'close')]);
    a.close();
    expect(() => a.send(Buffer.from('after close'))).toThrow(ClosedError);
    expect(await Promise.race([bEnded.then(() => 'ended'), valueAfter(3000, 'hung')])).toBe('ended');
    for (let i = 0; i < 100; i++) b.send(Buffer.from(`reply ${i}`));
    b.close();
    expect(await Promise.race([aEnded.then(() => 'ended'), valueAfter(3000, 'hung')])).toBe('ended');
    expect(packets).toHaveLength(100);
    expect(packets[99]).toBe('reply 99');
    expect(await Promise.race([closes.then(() => 'closed'), valueAfter(3000, 'hung')])).toBe('closed');
  });
});
