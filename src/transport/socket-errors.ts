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
  else socket.resetAndDestroy();
}

function ignore(): void {}
