import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LinePeer, ROOT } from './support/line-peer.js';

const run = promisify(execFile);
const tsx = (file: string) => [process.execPath, ['--import', 'tsx', `${ROOT}examples/${file}`]] as const;

/** Resolves once the peer's stderr holds `text`, or after `timeoutMs` (the caller's expect then says why). */
function stderrIncludes(peer: LinePeer, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const stderr = peer.child.stderr;
    // LinePeer's own listener was added first, so `peer.stderr` already holds the chunk when this one runs
    const check = () => {
      if (!peer.stderr.includes(text)) return;
      clearTimeout(timer);
      stderr?.off('data', check);
      resolve();
    };
    const timer = setTimeout(() => {
      stderr?.off('data', check);
      resolve();
    }, timeoutMs);
    stderr?.on('data', check);
    check();
  });
}

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('examples run as documented', () => {
  it('media-packets.ts keeps packet boundaries', async () => {
    const [cmd, args] = tsx('media-packets.ts');
    const { stdout } = await run(cmd, [...args], { timeout: 30_000 });
    expect(stdout).toContain('received 50 packets of 160 bytes, boundaries intact');
  });

  it('line-signaller.ts connects over a ten-line Signaller', async () => {
    const [cmd, args] = tsx('line-signaller.ts');
    const { stdout } = await run(cmd, [...args], { timeout: 30_000 });
    expect(stdout).toContain('echo: HELLO OVER ICE-TCP');
  });

  it('tunnel.ts carries a TCP service (an echo server standing in for svnserve) through ICE', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => echo.close());
    const servicePort = (echo.address() as net.AddressInfo).port;
    const [cmd, args] = tsx('tunnel.ts');
    const serve = new LinePeer(cmd, [...args, 'serve', `127.0.0.1:${servicePort}`, '--bind', '127.0.0.1']);
    // Port 0: a port picked here and freed for the example could be taken by a parallel suite in between. The
    // preload binds the example's listener late, as a descheduled process would: CI once saw the client refused
    // because "listening on" was printed before the port was bound, and the test then waited out its 60 s.
    const late = ['--import', `${ROOT}test/support/fixtures/late-listen.mjs`];
    const expose = new LinePeer(cmd, [...late, ...args, 'expose', '0', '--bind', '127.0.0.1']);
    cleanups.push(
      () => serve.kill(),
      () => expose.kill(),
    );
    // Each tsx peer costs ~1.8 s of CPU to start: at load average 22 on 2 cores its lines came after 11 s,
    // close to exchangeLines' 15 s. Waiting on the lines themselves, so a longer bound costs nothing when healthy.
    const [serveLines, exposeLines] = await Promise.all([
      serve.localLines(45_000),
      expose.localLines(45_000),
    ]);
    serve.writeRemote(exposeLines);
    expose.writeRemote(serveLines);
    await stderrIncludes(expose, 'listening on', 30_000);
    const exposedPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(expose.stderr)?.[1]);
    expect(exposedPort, expose.stderr).toBeGreaterThan(0);

    const client = net.connect(exposedPort, '127.0.0.1');
    cleanups.push(() => client.destroy());
    const payload = Buffer.alloc(256 * 1024, 'svn');
    const received: Buffer[] = [];
    let length = 0;
    // a refused or reset client fails the test at once, with both sides' stderr, instead of a silent timeout
    const echoed = new Promise<Buffer>((resolve, reject) => {
      client.on('error', (err) =>
        reject(new Error(`client: ${err.message}\nserve: ${serve.stderr}\nexpose: ${expose.stderr}`)),
      );
      client.on('data', (d: Buffer) => {
        received.push(d);
        length += d.length;
        if (length >= payload.length) resolve(Buffer.concat(received));
      });
    });
    client.write(payload);
    expect((await echoed).equals(payload)).toBe(true);
  }, 120_000);
});
