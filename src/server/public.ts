/**
 * `ice-tcp/server`: a STUN Binding server over TCP and UDP (RFC 8489, with the RFC 5780 alternate endpoint
 * that NAT probing needs) for rendezvous hosts and tests; the `ice-tcp stun-server` command runs the same
 * class. Kept off the root entry: an application that only connects never needs it.
 */

export type { StunServerOptions } from './options.js';
export { StunServer, type StunServerEndpoint, type StunServerEvents } from './stun-server.js';
