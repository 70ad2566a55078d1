/** Small observers for the agent host: a STUN Binding probe over TCP and a map of this process's TCP sockets. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { StunClass, StunMessageBuilder, StunMethod } from '../../../src/stun/index.js';

/** What `stunProbe` saw: how many Binding requests over fresh TCP connections were answered in time. */
export interface ProbeSummary {
  total: number;
  answered: number;
  ms: number[];
}

/** One Binding request over a fresh TCP connection (plain STUN over TCP, no RFC 4571): answered in time? */
export function probeOnce(port: number, timeoutMs: number): Promise<number | undefined> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, autoSelectFamily: false });
    let got = Buffer.alloc(0);
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered ? performance.now() - start : undefined);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('connect', () =>
      socket.write(
        new StunMessageBuilder(StunMethod.Binding, StunClass.Request).build({ fingerprint: true }),
      ),
    );
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 20 && got.length >= 20 + got.readUInt16BE(2)) done(true);
    });
  });
}

const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
];

/**
 * inode -> what the socket is, from /proc/net: "tcp :local -> :remote STATE" (ports only: the harness is on
 * loopback), "udp :port" or "unix". A socket fd found in none of them has no connection left in the kernel's
 * tables: an fd kept open after its connection ended.
 */
export function tcpSockets(): Map<string, string> {
  const out = new Map<string, string>();
  const port = (a: string | undefined) => Number.parseInt(a?.split(':')[1] ?? '0', 16);
  for (const [file, kind] of [
    ['/proc/self/net/tcp', 'tcp'],
    ['/proc/self/net/tcp6', 'tcp'],
    ['/proc/self/net/udp', 'udp'],
    ['/proc/self/net/udp6', 'udp'],
  ] as const) {
    for (const f of table(file)) {
      if (f.length < 10) continue;
      const state = TCP_STATES[Number.parseInt(f[3] ?? '0', 16)] ?? f[3];
      out.set(
        f[9] ?? '',
        kind === 'tcp' ? `tcp :${port(f[1])} -> :${port(f[2])} ${state}` : `udp :${port(f[1])}`,
      );
    }
  }
  for (const f of table('/proc/self/net/unix'))
    if (f[6] !== undefined) out.set(f[6], `unix ${f[7] ?? ''}`.trim());
  return out;
}

function table(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
  } catch {
    return [];
  }
}
