/** A STUN Binding server over TCP and UDP (RFC 8489, RFC 5780 alternate endpoint) for rendezvous and tests. */
export { answerBinding, type BindingContext, type BindingOutcome } from './binding.js';
export type { StunServerOptions } from './options.js';
export { StunServer, type StunServerEndpoint, type StunServerEvents } from './stun-server.js';
