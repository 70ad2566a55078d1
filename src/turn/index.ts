/** TURN client for TCP allocations (RFC 6062 over RFC 8656), with long-term credentials. */
export {
  DEFAULT_MAX_INBOUND_CONNECTIONS,
  type TurnAllocateOptions,
  TurnAllocation,
  type TurnAllocationEvents,
  type TurnConnectOptions,
} from './allocation.js';
export type { TurnPeerConnection, TurnServerOptions } from './types.js';
