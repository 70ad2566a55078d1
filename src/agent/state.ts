/** Overall state of the agent, as in RTCIceConnectionState. */
export type IceState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';

/** Gathering progress. */
export type GatheringState = 'new' | 'gathering' | 'complete';
