/**
 * `ice-tcp/rendezvous`: the WebSocket signalling server `ice-tcp rendezvous` runs, for embedding in a
 * deployment. Clients use `WebSocketSignaller` from the package root.
 */
export type { RendezvousOptions } from './options.js';
export { RendezvousServer } from './server.js';
