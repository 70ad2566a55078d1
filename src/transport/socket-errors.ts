import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/**
 * Closes a socket without leaving TIME_WAIT: RST once connected; a plain destroy while still
 * connecting, because in SYN_SENT closing sends nothing, and Node would otherwise defer the reset
 * until a 'connect' that may never come. A TLS socket (a relayed connection to a TURN server over TLS) gets a
 * plain destroy too: its handle is a TLS wrap, not TCP, and resetAndDestroy() throws ERR_INVALID_HANDLE_TYPE.
 */
export function discardSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy() and a late peer RST can both still emit 'error'; nobody may be listening any more.
  socket.on('error', ignore);
  if (socket.connecting || socket instanceof TLSSocket) socket.destroy();
  else if (socket.writableEnded && !socket.writableFinished) {
    // Node 20: resetAndDestroy() before an end()'s shutdown is issued (it goes out a tick later) never closes the
    // handle, and the descriptor leaks; one turn later the shutdown is out and the reset closes it
    setImmediate(() => {
      if (!socket.destroyed) socket.resetAndDestroy();
    });
  } else socket.resetAndDestroy();
}

function ignore(): void {}
