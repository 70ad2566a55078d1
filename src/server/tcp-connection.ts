import type net from 'node:net';
import createDebug from 'debug';
import { FrameTooLargeError, StunParseError } from '../errors.js';
import { StunStreamSplitter } from '../framing/index.js';
import type { TransportAddress } from '../stun/index.js';
import { toTransportAddress } from './addresses.js';
import type { BindingOutcome } from './binding.js';

const log = createDebug('ice-tcp:server');

/** A Binding request is a few hundred bytes; anything announcing more than this is not one of ours. */
export const MAX_REQUEST_SIZE = 4096;

/** How one TCP connection is served. */
export interface TcpConnectionContext {
  /** Answers one whole message received from `source` on the local endpoint `local`. */
  answer(raw: Buffer, source: TransportAddress, local: TransportAddress): BindingOutcome;
  idleTimeoutMs: number;
  /** A bug, not a client's fault: reported, and the connection is reset. */
  onError(error: Error): void;
}

/**
 * Serves unframed STUN (RFC 8489 §6.2.2) on one accepted connection: any number of requests, answered in
 * order. Junk, an oversized header, a timeout or a socket error reset this connection and nothing else.
 * A client that stops reading is not buffered for: reading pauses until its responses drain.
 */
export function serveTcpConnection(socket: net.Socket, ctx: TcpConnectionContext): void {
  const source = toTransportAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0);
  const local = toTransportAddress(socket.localAddress ?? '', socket.localPort ?? 0);
  const tag = `${source.address}:${source.port}`;
  const splitter = new StunStreamSplitter({ maxMessageSize: MAX_REQUEST_SIZE });
  const reset = (why: string): void => {
    log('%s: reset (%s)', tag, why);
    if (!socket.destroyed) socket.resetAndDestroy();
  };

  socket.setNoDelay(true);
  socket.setTimeout(ctx.idleTimeoutMs);
  socket.on('timeout', () => reset('idle'));
  socket.on('error', (error: NodeJS.ErrnoException) => log('%s: %s', tag, error.code ?? error.message));
  socket.on('drain', () => socket.resume());
  socket.on('end', () => {
    // The client half-closed: answers to what it sent are already written, so finish our side too.
    if (splitter.bufferedBytes > 0) reset('stream ended inside a message');
    else socket.end();
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
    for (const raw of messages) {
      if (socket.destroyed) return;
      const outcome = ctx.answer(raw, source, local);
      if (outcome.kind === 'junk') {
        reset(outcome.error.message);
        return;
      }
      if (outcome.kind === 'ignore') {
        log('%s: ignored (%s)', tag, outcome.why);
        continue;
      }
      log('%s: %d', tag, outcome.code);
      if (!socket.write(outcome.response)) socket.pause();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      onData(chunk);
    } catch (error) {
      reset('internal error');
      ctx.onError(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
