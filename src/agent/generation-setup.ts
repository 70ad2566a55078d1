import type { IceRole } from '../checklist/index.js';
import { Checklist } from '../checklist/index.js';
import { type CheckIceOptions, ConnectionPool, type PoolEvents } from './connection-pool.js';
import type { IceParameters } from './credentials.js';
import { Generation } from './generation.js';
import type { ResolvedOptions } from './options.js';

/** Limits on not yet authenticated inbound connections, as the pool and gathering's ports take them. */
export function pendingLimits(options: ResolvedOptions): {
  maxPendingConnections: number;
  pendingDeadlineMs: number;
} {
  return {
    maxPendingConnections: options.maxUnauthenticatedConnections,
    pendingDeadlineMs: options.unauthenticatedTimeoutMs,
  };
}

/**
 * A generation with its own pool. `events` gets the new generation, so that the agent can count what the pool
 * reports only while that generation is in force; `iceOptions` is the agent's stream-resume negotiation.
 */
export function createGeneration(
  id: number,
  params: IceParameters,
  initiatedHere: boolean,
  options: ResolvedOptions,
  iceOptions: CheckIceOptions,
  events: (gen: Generation) => PoolEvents,
): Generation {
  const gen = new Generation(id, params, initiatedHere);
  gen.pool = new ConnectionPool({
    localUfrag: params.ufrag,
    localPwd: params.pwd,
    maxFrameSize: options.maxFrameSize,
    dialTimeoutMs: options.dialTimeoutMs,
    soRetryDelayMs: options.soRetryDelayMs,
    soResynIntervalMs: options.soResynIntervalMs,
    signal: gen.abort.signal,
    pending: pendingLimits(options),
    remote: () => gen.remote,
    events: events(gen),
    iceOptions,
  });
  return gen;
}

/** A generation's checklist with the agent's ICE options. */
export function createChecklist(options: ResolvedOptions, role: IceRole, tieBreaker: bigint): Checklist {
  return new Checklist({
    role,
    tieBreaker,
    pacingMs: options.checkPacingMs,
    checkTimeoutMs: options.checkTimeoutMs,
    passiveGraceMs: options.passiveGraceMs,
    peerWaitMs: options.peerWaitMs,
    maxPairs: options.maxPairs,
    nominationWaitMs: options.nominationWaitMs,
    relayNominationWaitMs: options.relayNominationWaitMs,
    remoteEndOfCandidatesTimeoutMs: options.remoteEndOfCandidatesTimeoutMs,
    lite: options.lite,
  });
}
