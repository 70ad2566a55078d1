export { type DialActiveOptions, dialActive } from './dial-active.js';
export {
  FramedConnection,
  type FramedConnectionEvents,
  type FramedConnectionOptions,
  MAX_RFC4571_PAYLOAD,
} from './framed-connection.js';
export type { PortChoice } from './listen-port.js';
export { LoopClock, loopClock } from './loop-clock.js';
export {
  DEFAULT_MAX_PENDING_CONNECTIONS,
  DEFAULT_PENDING_DEADLINE_MS,
  OutstandingConnections,
  type PendingLimits,
  REJECTED_GRACE_MS,
} from './outstanding-connections.js';
export {
  type PassiveAcceptor,
  PassiveListener,
  type PassiveListenerEvents,
  type PassiveListenerOptions,
} from './passive-listener.js';
export {
  DEFAULT_FAST_RETRIES_PER_TARGET,
  DEFAULT_RESYN_BURST,
  DEFAULT_RESYN_RATE,
  ResynBudget,
  type ResynBudgetOptions,
} from './resyn-budget.js';
export {
  SimultaneousOpenPort,
  type SimultaneousOpenPortEvents,
  type SimultaneousOpenPortOptions,
} from './simultaneous-open-port.js';
export { DEFAULT_FAST_RETRIES, type SoDialOptions } from './so-dial.js';
