import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cliCommand } from '../support/line-peer.js';

/** A `connect` process in bridge mode: stdout is our a= lines, a blank line, then the peer's bytes. */
class BridgePeer {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = Buffer.alloc(0);
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    const [cmd, argv] = cliCommand(['connect', '--bind', '127.0.0.1', ...args]);
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => {
      this.stdout = Buffer.concat([this.stdout, d]);
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Our a= lines with their blank line, once printed. */
  async lines(): Promise<Buffer> {
    for (let i = 0; i < 300; i++) {
      const end = this.stdout.indexOf('\n\n');
      if (end >= 0) return this.stdout.subarray(0, end + 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no a= lines\n${this.stderr}`);
  }

  /** What arrived after our lines. */
  data(): Buffer {
    return this.stdout.subarray(this.stdout.indexOf('\n\n') + 2);
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const running: BridgePeer[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
});

describe('ice-tcp connect without transfer flags bridges stdin and stdout (netcat style)', () => {
  it('carries both directions, keeps data pasted right after the blank line, exits once both ended', async () => {
    // before: printed {"event":"connected"} and hung for ever, the data never moved
    const a = new BridgePeer(['--controlling']);
    const b = new BridgePeer(['--controlled']);
    running.push(a, b);
    const [la, lb] = await Promise.all([a.lines(), b.lines()]);
    const fromA = randomBytes(2 * 1024 * 1024);
    const fromB = Buffer.from('hello from b\n');
    // the peer's lines and the data in one write: the bytes after the blank line are data, not signalling
    a.child.stdin.end(Buffer.concat([lb, fromA]));
    b.child.stdin.end(Buffer.concat([la, fromB]));
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    expect([ca, cb], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
    expect(sha(b.data())).toBe(sha(fromA));
    expect(a.data().toString()).toBe('hello from b\n');
    expect(a.stderr).toMatch(/connected: host/);
  });

  it('with --json the reports on stderr are JSON lines only', async () => {
    const a = new BridgePeer(['--controlling', '--json']);
    const b = new BridgePeer(['--controlled', '--json']);
    running.push(a, b);
    const [la, lb] = await Promise.all([a.lines(), b.lines()]);
    a.child.stdin.end(Buffer.concat([lb, Buffer.from('x')]));
    b.child.stdin.end(la);
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    const events = a.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; sentBytes?: number });
    expect(events.map((e) => e.event)).toEqual(['connected', 'done']);
    expect(events[1]?.sentBytes).toBe(1);
    expect(b.data().toString()).toBe('x');
  });
});
