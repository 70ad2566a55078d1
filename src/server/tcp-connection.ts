import type net from 'node:net';
import createDebug from 'debug';
import { FrameTooLargeError, StunParseError } from '../errors.js';
import { StunStreamSplitter } from '../framing/index.js';
import type { TransportAddress } from '../stun/index.js';
import { discardSocket } from '../transport/socket-errors.js';
import { toTransportAddress } from './addresses.js';
import type { BindingOutcome } from './binding.js';

const log = createDebug('ice-tcp:server');

/** A Binding request is a few hundred bytes; anything announcing more than this is not one of ours. */
export const MAX_REQUEST_SIZE = 4096;

/** How one TCP connection is served. */
export interface TcpConnectionContext {
  /** Answers one whole message received from `source` on the local endpoint `local`. */
  answer(raw: Buffer, source: TransportAddress, local: TransportAddress): BindingOutcome;
  /** A request was answered: the only thing that counts as progress (deadlines are the caller's). */
  onRequest(): void;
  /** A bug, not a client's fault: reported, and the connection is reset. */
  onError(error: Error): void;
}

/**
 * Serves unframed STUN (RFC 8489 §6.2.2) on one accepted connection: any number of requests, answered in
 * order. Junk, an oversized header or a socket error reset this connection and nothing else; deadlines
 * are enforced by the caller, which learns of each answered request through `onRequest`.
 * A client that stops reading is not buffered for: answering and reading pause until its responses drain.
 */
export function serveTcpConnection(socket: net.Socket, ctx: TcpConnectionContext): void {
  const source = toTransportAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0);
  const local = toTransportAddress(socket.localAddress ?? '', socket.localPort ?? 0);
  const tag = `${source.address}:${source.port}`;
  const splitter = new StunStreamSplitter({ maxMessageSize: MAX_REQUEST_SIZE });
  const reset = (why: string): void => {
    log('%s: reset (%s)', tag, why);
    discardSocket(socket);
  };

  // Requests received but not yet answered: a chunk can hold thousands, and answering them all at once
  // would buffer megabytes for a client that does not read (a long SOFTWARE makes each answer ~800 bytes).
  let queue: Buffer[] = [];
  let next = 0;
  let clientEnded = false;
  /** Answers queued requests while the socket takes writes; returns whether the queue is empty. */
  const serveQueue = (): boolean => {
    while (next < queue.length) {
      if (socket.destroyed) return false;
      if (socket.writableNeedDrain) return false;
      const raw = queue[next++] as Buffer;
      const outcome = ctx.answer(raw, source, local);
      if (outcome.kind === 'junk') {
        reset(outcome.error.message);
        return false;
      }
      if (outcome.kind === 'ignore') {
        log('%s: ignored (%s)', tag, outcome.why);
        continue;
      }
      log('%s: %d', tag, outcome.code);
      ctx.onRequest();
      socket.write(outcome.response);
    }
    queue = [];
    next = 0;
    // The client half-closed: its answers are all written now, so finish our side too.
    if (clientEnded) socket.end();
    return true;
  };
  const guarded = (work: () => void): void => {
    try {
      work();
    } catch (error) {
      reset('internal error');
      ctx.onError(error instanceof Error ? error : new Error(String(error)));
    }
  };

  socket.setNoDelay(true);
  socket.on('error', (error: NodeJS.ErrnoException) => log('%s: %s', tag, error.code ?? error.message));
  socket.on('drain', () =>
    guarded(() => {
      if (serveQueue() && !socket.destroyed) socket.resume();
    }),
  );
  socket.on('end', () => {
    clientEnded = true;
    if (splitter.bufferedBytes > 0) reset('stream ended inside a message');
    else if (next >= queue.length) socket.end();
  });
  const onData = (chunk: Buffer): void => {
    let messages: Buffer[];
    try {
      messages = splitter.push(chunk);
    } catch (error) {
      if (!(error instanceof StunParseError || error instanceof FrameTooLargeError)) throw error;
      reset(error.message);
      return;
    }
    queue.push(...messages);
    // Stop reading until the client takes what we owe it.
    if (!serveQueue() && !socket.destroyed) socket.pause();
  };
  socket.on('data', (chunk: Buffer) => guarded(() => onData(chunk)));
}
