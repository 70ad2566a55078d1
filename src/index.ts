/**
 * ice-tcp: ICE-TCP (RFC 8445 + RFC 6544) for Node.js.
 *
 * Every public name is listed here by hand, never through `export *`: what an application may rely on is a
 * decision made in review, and test/api-surface.txt records it. The STUN codec, the RFC 4571 framing and the
 * STUN server are on their own subpaths (`ice-tcp/stun`, `ice-tcp/framing`, `ice-tcp/server`) so that an
 * application's completions show the agent, not the wire formats.
 */

export type { IceParameters } from './agent/credentials.js';
export type { IceAgentOptions, IceRole, StunServerAddress, TurnServerOptions } from './agent/options.js';
export type { IceStats, PairStats } from './agent/stats.js';
export {
  type GatheringState,
  IceAgent,
  type IceAgentEvents,
  type IceState,
  type SelectedPair,
} from './agent.js';
export { formatCandidate, parseCandidate } from './candidate/sdp.js';
export type { Candidate, CandidateType, TcpType } from './candidate/types.js';
export type { PairState } from './checklist/index.js';
// A type only: connections come from `agent.connect()`; the constructor takes internal transport objects.
export type { IceConnection, IceConnectionEvents } from './connection/ice-connection.js';
export {
  AbortedError,
  CandidateLimitError,
  CandidateParseError,
  ClosedError,
  type ConnectionLossReason,
  ConnectionLostError,
  ConsentLostError,
  FrameTooLargeError,
  FrameTruncatedError,
  GatherError,
  IceFailedError,
  IceTcpError,
  type IceTcpErrorCode,
  IceTimeoutError,
  InvalidArgumentError,
  PathChangedError,
  RendezvousError,
  type RendezvousRefusal,
  ResumeError,
  SignallingError,
  SocketError,
  StunFingerprintError,
  StunIntegrityError,
  StunParseError,
  StunTransactionError,
  TunnelError,
  TurnError,
} from './errors.js';
export type { NatObservation, NatReport, PortAllocation } from './gather/nat-behaviour.js';
export { type NatProbeOptions, probeNat } from './gather/nat-probe.js';
export type { MuxCounters, MuxLimits } from './server/mux-acceptor.js';
export type { MuxPrimary, MuxPrimaryEvents, MuxPrimaryOptions } from './server/mux-primary.js';
export { IceTcpMux, type IceTcpMuxEvents, type IceTcpMuxOptions, type MuxAddress } from './server/tcp-mux.js';
export { attachSignaller, connectWithSignaller } from './signalling/attach.js';
export { createInMemorySignallerPair } from './signalling/in-memory.js';
export {
  decodeSignalMessage,
  encodeSignalMessage,
  type Signaller,
  type SignalMessage,
  validateSignalMessage,
} from './signalling/messages.js';
export { SdpLineSignaller, type SdpLineSignallerOptions } from './signalling/stdio.js';
export {
  WebSocketSignaller,
  type WebSocketSignallerEvents,
  type WebSocketSignallerOptions,
} from './signalling/websocket.js';
