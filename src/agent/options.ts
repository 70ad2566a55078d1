import { isIP } from 'node:net';
import type { IceRole, TcpType } from '../candidate/types.js';
import { InvalidArgumentError } from '../errors.js';
import type { StunServerAddress } from '../gather/server-reflexive.js';
import { IceTcpMux } from '../server/tcp-mux.js';
import type { TurnServerOptions } from '../turn/types.js';
import { checkLiteOptions, liteDefaults } from './lite.js';

// The option types of the layers below, re-exported: the public API names them as agent options.
export type { IceRole, StunServerAddress, TurnServerOptions };

/** Everything an {@link IceAgent} can be told; every field is optional. */
export interface IceAgentOptions {
  /** Fixed role. Default: the offerer (the side that produced its description first) controls; conflicts are
   * settled by the RFC 8445 tie-breaker. */
  role?: IceRole;
  /** Which tcptypes to gather (default all three). */
  tcpTypes?: TcpType[];
  /** Local IPs to use. Default: every non-loopback unicast IPv4/IPv6 address; loopback when there is none. */
  addresses?: string[];
  /** Add loopback addresses to the default set. */
  includeLoopback?: boolean;
  /** Ports for passive and S-O candidates (inclusive range). Default: any free port. */
  portRange?: { min: number; max: number };
  /** Cancels gathering and connecting. */
  signal?: AbortSignal;
  /** STUN servers for server-reflexive candidates. */
  stunServers?: StunServerAddress[];
  /** TURN servers for relayed candidates. */
  turnServers?: TurnServerOptions[];
  /** Only relayed candidates are offered and paired (for tests and demos of the relay path). */
  forceRelay?: boolean;
  /** Ta: pause between two ordinary checks (ms, >= 1). Default 5. */
  checkPacingMs?: number;
  /** How long one check may take, TCP connection set-up included (ms). Default 2500 (survives a lost SYN). */
  checkTimeoutMs?: number;
  /** Longest TCP (or TURN Connect) set-up of a check's connection (ms). Default: `checkTimeoutMs`. */
  dialTimeoutMs?: number;
  /**
   * How long a pair on our passive candidate may still wait for the peer to connect once the peer's
   * candidates are complete, before ICE can fail (ms). Default: `checkTimeoutMs`.
   */
  passiveGraceMs?: number;
  /**
   * While no check of the peer has arrived (it may get our candidates later than we got its own: an answer
   * through a signalling server, lines pasted by hand), how long after the peer's end-of-candidates ICE keeps
   * trying before it can fail with `ERR_ICE_FAILED`, checking failed pairs again 1, 2, 4 and then every 8 s
   * (ms). Default: `connectTimeoutMs`, so `connect()` then ends with `ERR_ICE_TIMEOUT`. Set it low to fail fast
   * where both sides are known to start together.
   */
  peerWaitMs?: number;
  /** S-O: pause before dialling again after a RST (ms). Default 20. */
  soRetryDelayMs?: number;
  /**
   * S-O: replace an unanswered SYN by a fresh socket's from the same port this often (ms); 0 (default) never,
   * since a new ISN can lock the pair out of a Linux NAT (see SoDialOptions.resynIntervalMs).
   */
  soResynIntervalMs?: number;
  /** Controlling agent: longest wait, from the first check, for a better pair before nominating (ms). Default 800. */
  nominationWaitMs?: number;
  /** Controlling agent: longest wait, from the first check, for a direct pair before nominating a succeeded
   * relayed pair (ms). Default 800: through the relay within ~1 s when no direct path works. */
  relayNominationWaitMs?: number;
  /** Give up waiting for the remote end-of-candidates after this long (ms). Default 5000. */
  remoteEndOfCandidatesTimeoutMs?: number;
  /** Overall limit for `connect()` (ms). Default 30000. */
  connectTimeoutMs?: number;
  /** Limit for STUN/TURN server transactions while gathering (ms). Default 3000. */
  gatherTimeoutMs?: number;
  /** Largest RFC 4571 frame accepted from the peer (bytes, <= 65535). Default 65535. */
  maxFrameSize?: number;
  /** Candidate-pair limit (RFC 8445 §6.1.2.5). Default 100. */
  maxPairs?: number;
  /**
   * Remote candidates kept (distinct lines); each one past it is a `CandidateLimitError` and is dropped.
   * Default 100: about 3x what a multi-homed peer with STUN, prediction and TURN signals, and no more
   * than the checklist could pair under `maxPairs` anyway.
   */
  maxRemoteCandidates?: number;
  /**
   * Per passive or S-O port: inbound connections that no check authenticated yet. A newcomer beyond the cap
   * evicts the oldest of them (never the newest), so idle strangers cannot keep the peer out. Default 32.
   */
  maxUnauthenticatedConnections?: number;
  /** An inbound connection that has not authenticated this long after it was accepted is reset (ms). Default 2500. */
  unauthenticatedTimeoutMs?: number;
  /**
   * Consent freshness (RFC 7675): mean pause between two consent checks on the selected pair (ms); each pause
   * is this × a uniform random factor in [0.8, 1.2]. Also the TCP keepalive idle time. Default 5000.
   */
  consentIntervalMs?: number;
  /**
   * Consent expires this long after the last authenticated answer to a consent check (ms): state `failed`,
   * `ConsentLostError`. Not below `consentIntervalMs`. Default 30000.
   */
  consentTimeoutMs?: number;
  /**
   * On `disconnected`, restart ICE by itself (through the attached signaller), again with back-off (1 s, 2 s,
   * 4 s, ... up to 30 s) after each restart that fails, until the connection is back or the agent `failed`.
   * Default false.
   */
  autoRestart?: boolean;
  /**
   * Advertise the ICE option `icetcp+resume` and, when the peer advertises it too, carry `stream()` across ICE
   * restarts with no byte lost (README, "Seamless path switch"). false: plain RFC 4571 framing, and a restart
   * ends the stream with `PathChangedError`. Default true.
   */
  streamResume?: boolean;
  /**
   * ice-lite (RFC 8445 §2.5): passive host candidates only, no checks of its own, always controlled; it answers
   * the peer's checks and selects the pair the peer nominates, and `a=ice-lite` / `lite: true` tell the peer.
   * `tcpTypes` other than passive, `stunServers`, `turnServers`, `forceRelay` and `role: 'controlling'` are refused.
   * Default false.
   */
  lite?: boolean;
  /**
   * A shared port (listening): the passive candidate is the mux's address (and its `publicAddress`) instead of
   * a port of this agent's own; connections whose first check names our ufrag are routed here. Needs `passive`
   * in `tcpTypes`.
   */
  mux?: IceTcpMux;
  /** Local credentials; generated when absent (ufrag >= 4 chars, pwd >= 22 chars). */
  ufrag?: string;
  pwd?: string;
}

/** Options with every default filled in. */
export type ResolvedOptions = Required<
  Omit<IceAgentOptions, 'role' | 'addresses' | 'portRange' | 'signal' | 'ufrag' | 'pwd' | 'mux'>
> &
  Pick<IceAgentOptions, 'role' | 'addresses' | 'portRange' | 'signal' | 'ufrag' | 'pwd' | 'mux'>;

const DEFAULTS = {
  tcpTypes: ['active', 'passive', 'so'] as TcpType[],
  includeLoopback: false,
  stunServers: [] as StunServerAddress[],
  turnServers: [] as TurnServerOptions[],
  forceRelay: false,
  checkPacingMs: 5,
  checkTimeoutMs: 2500,
  soRetryDelayMs: 20,
  soResynIntervalMs: 0,
  nominationWaitMs: 800,
  relayNominationWaitMs: 800,
  remoteEndOfCandidatesTimeoutMs: 5000,
  connectTimeoutMs: 30_000,
  gatherTimeoutMs: 3000,
  maxFrameSize: 65535,
  maxPairs: 100,
  maxUnauthenticatedConnections: 32,
  unauthenticatedTimeoutMs: 2500,
  maxRemoteCandidates: 100,
  consentIntervalMs: 5000,
  consentTimeoutMs: 30_000,
  autoRestart: false,
  streamResume: true,
  lite: false,
};

function positive(name: string, value: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be a number in ${min}..${max}, got ${value}`);
  }
  return value;
}

/** Fills defaults and rejects unusable values with an {@link InvalidArgumentError}. */
export function resolveOptions(options: IceAgentOptions = {}): ResolvedOptions {
  checkLiteOptions(options);
  const o = { ...DEFAULTS, ...liteDefaults(options), ...stripUndefined(options) };
  if (o.role !== undefined && o.role !== 'controlling' && o.role !== 'controlled') {
    throw new InvalidArgumentError(`role must be 'controlling' or 'controlled', got ${String(o.role)}`);
  }
  if (!Array.isArray(o.tcpTypes) || o.tcpTypes.length === 0) {
    throw new InvalidArgumentError('tcpTypes must list at least one of active, passive, so');
  }
  for (const t of o.tcpTypes) {
    if (t !== 'active' && t !== 'passive' && t !== 'so')
      throw new InvalidArgumentError(`unknown tcptype ${t}`);
  }
  if (o.portRange) {
    const { min, max } = o.portRange;
    positive('portRange.min', min, 1, 65535);
    positive('portRange.max', max, min, 65535);
  }
  positive('checkPacingMs', o.checkPacingMs, 1, 10_000);
  positive('checkTimeoutMs', o.checkTimeoutMs, 10, 600_000);
  const dialTimeoutMs = positive('dialTimeoutMs', o.dialTimeoutMs ?? o.checkTimeoutMs, 10, 600_000);
  const passiveGraceMs = positive('passiveGraceMs', o.passiveGraceMs ?? o.checkTimeoutMs, 0, 600_000);
  const peerWaitMs = positive('peerWaitMs', o.peerWaitMs ?? o.connectTimeoutMs, 0, 86_400_000);
  positive('soRetryDelayMs', o.soRetryDelayMs, 1, 60_000);
  positive('soResynIntervalMs', o.soResynIntervalMs, 0, 60_000);
  if (o.soResynIntervalMs > 0 && o.soResynIntervalMs < 10) {
    throw new InvalidArgumentError(`soResynIntervalMs must be 0 or 10..60000, got ${o.soResynIntervalMs}`);
  }
  positive('nominationWaitMs', o.nominationWaitMs, 0, 600_000);
  positive('relayNominationWaitMs', o.relayNominationWaitMs, 0, 600_000);
  positive('remoteEndOfCandidatesTimeoutMs', o.remoteEndOfCandidatesTimeoutMs, 0, 600_000);
  positive('connectTimeoutMs', o.connectTimeoutMs, 10, 86_400_000);
  positive('gatherTimeoutMs', o.gatherTimeoutMs, 10, 600_000);
  positive('maxFrameSize', o.maxFrameSize, 64, 65535);
  positive('maxPairs', o.maxPairs, 1, 10_000);
  positive('maxUnauthenticatedConnections', o.maxUnauthenticatedConnections, 1, 100_000);
  positive('unauthenticatedTimeoutMs', o.unauthenticatedTimeoutMs, 10, 600_000);
  positive('consentIntervalMs', o.consentIntervalMs, 10, 3_600_000);
  positive('consentTimeoutMs', o.consentTimeoutMs, o.consentIntervalMs, 86_400_000);
  if (typeof o.autoRestart !== 'boolean') throw new InvalidArgumentError('autoRestart must be a boolean');
  if (typeof o.streamResume !== 'boolean') throw new InvalidArgumentError('streamResume must be a boolean');
  if (o.addresses !== undefined) validateAddresses(o.addresses);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  positive('maxRemoteCandidates', o.maxRemoteCandidates, 1, 10_000);
  if (!Number.isInteger(o.maxRemoteCandidates))
    throw new InvalidArgumentError(`maxRemoteCandidates must be an integer, got ${o.maxRemoteCandidates}`);
  if (o.ufrag !== undefined && !/^[A-Za-z0-9+/]{4,256}$/.test(o.ufrag)) {
    throw new InvalidArgumentError('ufrag must be 4..256 ice-chars (RFC 8445 §5.3)');
  }
  if (o.pwd !== undefined && !/^[A-Za-z0-9+/]{22,256}$/.test(o.pwd)) {
    throw new InvalidArgumentError('pwd must be 22..256 ice-chars (RFC 8445 §5.3)');
  }
  for (const s of o.stunServers) validateServer('stunServers', s);
  for (const s of o.turnServers) {
    validateServer('turnServers', s);
    if (typeof s.username !== 'string' || typeof s.password !== 'string') {
      throw new InvalidArgumentError('turnServers entries need username and password');
    }
    if (s.transport !== undefined && s.transport !== 'tcp' && s.transport !== 'tls') {
      throw new InvalidArgumentError(
        `turnServers transport must be 'tcp' or 'tls', got ${String(s.transport)}`,
      );
    }
    if (s.rejectUnauthorized !== undefined && typeof s.rejectUnauthorized !== 'boolean') {
      throw new InvalidArgumentError('turnServers rejectUnauthorized must be a boolean');
    }
    if (s.ca !== undefined && !isPemList(s.ca)) {
      throw new InvalidArgumentError('turnServers ca must be a PEM string, a Buffer or an array of them');
    }
    if (s.lifetimeSeconds !== undefined) positive('turnServers lifetimeSeconds', s.lifetimeSeconds, 1);
    if (s.permissionLifetimeSeconds !== undefined)
      positive('turnServers permissionLifetimeSeconds', s.permissionLifetimeSeconds, 1);
  }
  if (o.mux !== undefined && !(o.mux instanceof IceTcpMux))
    throw new InvalidArgumentError('mux must be an IceTcpMux');
  if (o.mux !== undefined && !o.tcpTypes.includes('passive'))
    throw new InvalidArgumentError("mux needs 'passive' in tcpTypes");
  if (o.forceRelay && o.turnServers.length === 0) {
    throw new InvalidArgumentError('forceRelay needs at least one entry in turnServers');
  }
  return { ...o, dialTimeoutMs, passiveGraceMs, peerWaitMs };
}

function validateAddresses(addresses: unknown): void {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new InvalidArgumentError('addresses must be a non-empty array of IP addresses');
  }
  for (const a of addresses) {
    if (typeof a !== 'string' || isIP(a) === 0) {
      throw new InvalidArgumentError(`addresses: ${JSON.stringify(a)} is not a numeric IPv4 or IPv6 address`);
    }
  }
}

function validateServer(name: string, s: { host: string; port: number }): void {
  if (!s || typeof s.host !== 'string' || s.host.length === 0) {
    throw new InvalidArgumentError(`${name} entries need a host`);
  }
  positive(`${name} port`, s.port, 1, 65535);
}

function isPemList(value: unknown): boolean {
  const one = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  return one(value) || (Array.isArray(value) && value.length > 0 && value.every(one));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
