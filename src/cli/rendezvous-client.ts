import { WebSocketSignaller } from '../signalling/websocket.js';

/**
 * `--rendezvous ws://host:port/room` of `connect` and `tunnel` (loaded by rendezvous-hook.ts). The token comes
 * from `?token=` in the URL or, kept out of the process list, from ICE_TCP_RENDEZVOUS_TOKEN (sent as a header).
 */
export function rendezvousSignaller(url: string): Promise<WebSocketSignaller> {
  const token = process.env.ICE_TCP_RENDEZVOUS_TOKEN;
  return WebSocketSignaller.connect(url, token ? { token } : {});
}
