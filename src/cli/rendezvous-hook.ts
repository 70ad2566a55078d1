import { InvalidArgumentError } from '../errors.js';
import type { Signaller } from '../signalling/messages.js';

/** What `--rendezvous` takes: a ws:// or wss:// URL with a room. */
export const RENDEZVOUS_URL = /^wss?:\/\/[^/]+\/[^/?#]+/;

/** Environment variable holding the rendezvous server's shared secret (kept out of the command line and `ps`). */
export const RENDEZVOUS_TOKEN_ENV = 'ICE_TCP_RENDEZVOUS_TOKEN';

/**
 * The one place `--rendezvous URL` (of `connect` and `tunnel`) becomes a {@link Signaller}: a
 * `WebSocketSignaller` in the URL's room, authenticated with `$ICE_TCP_RENDEZVOUS_TOKEN` when set. Loaded
 * lazily so the other commands never load `ws`.
 */
export async function signallerForRendezvous(
  command: string,
  url: string,
): Promise<Signaller & { close(): void }> {
  if (!RENDEZVOUS_URL.test(url)) {
    throw new InvalidArgumentError(`${command}: --rendezvous needs ws://HOST:PORT/ROOM, got ${url}`);
  }
  const { WebSocketSignaller } = await import('../signalling/websocket.js');
  const token = process.env[RENDEZVOUS_TOKEN_ENV];
  return WebSocketSignaller.connect(url, token ? { token } : {});
}
