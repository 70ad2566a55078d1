/** ice-tcp: ICE-TCP (RFC 8445 + RFC 6544) for Node.js. */

export type { IceParameters } from './agent/credentials.js';
export type {
  IceAgentOptions,
  IceRole,
  StunServerAddress,
  TurnServerOptions,
} from './agent/options.js';
export type { IceStats, PairStats } from './agent/stats.js';
export {
  type GatheringState,
  IceAgent,
  type IceAgentEvents,
  type IceState,
  type SelectedPair,
} from './agent.js';
export * from './candidate/index.js';
export { IceConnection, type IceConnectionEvents } from './connection/ice-connection.js';
export * from './errors.js';
export * from './framing/index.js';
export type { NatReport } from './gather/nat-behaviour.js';
export { type NatProbeOptions, probeNat } from './gather/nat-probe.js';
export {
  StunServer,
  type StunServerEndpoint,
  type StunServerEvents,
  type StunServerOptions,
} from './server/index.js';
export * from './signalling/index.js';
export * from './stun/index.js';
