import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Candidate } from '../../src/candidate/types.js';
import { IceConnection } from '../../src/connection/ice-connection.js';
import { isStunFrame } from '../../src/framing/index.js';
import { FramedConnection } from '../../src/transport/index.js';
import { socketPair } from '../transport/helpers.js';

function hostCandidate(port: number): Candidate {
  return {
    foundation: '1',
    component: 1,
    transport: 'TCP',
    priority: 1,
    address: '127.0.0.1',
    port,
    type: 'host',
    tcpType: 'passive',
    extensions: [],
  };
}

/** Wraps one end of a raw loopback socket as the agent does for a selected pair. */
export function iceConnectionOn(socket: net.Socket): IceConnection {
  const framed = new FramedConnection(socket);
  return new IceConnection(
    framed,
    hostCandidate(socket.localPort ?? 0),
    hostCandidate(socket.remotePort ?? 0),
    isStunFrame,
  );
}

/**
 * Two IceConnections over a plain loopback socket pair (sockets created with Node's defaults, so any
 * half-open behaviour must come from the library), plus the raw sockets for a peer that misbehaves.
 */
export async function connectionPair(): Promise<{
  a: IceConnection;
  b: IceConnection;
  client: net.Socket;
  server: net.Socket;
  close(): void;
}> {
  const pair = await socketPair();
  return { ...pair, a: iceConnectionOn(pair.client), b: iceConnectionOn(pair.server) };
}

/** Resolves with `value` after `ms`: lets a test tell "hung" from "settled" without a test timeout. */
export function valueAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

/** Counts the bytes a stream delivers until it ends (or errors: then rejects). */
export function countUntilEnd(stream: Duplex): Promise<number> {
  let n = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      n += chunk.length;
    });
    stream.once('end', () => resolve(n));
    stream.once('error', reject);
  });
}

/** Writes `n` bytes in 64 KiB chunks, honouring backpressure, then ends the stream if asked. */
export async function writeBytes(stream: Duplex, n: number, end: boolean): Promise<void> {
  const chunk = Buffer.alloc(65536, 0x5a);
  for (let sent = 0; sent < n; sent += chunk.length) {
    const piece = n - sent >= chunk.length ? chunk : chunk.subarray(0, n - sent);
    if (!stream.write(piece)) await new Promise((r) => stream.once('drain', r));
  }
  if (end) await new Promise<void>((resolve) => stream.end(resolve));
}
