/**
 * Every error ice-tcp throws or emits is an {@link IceTcpError} with a stable `code`.
 * Match on `code`, never on `message`: messages may be reworded, codes may not.
 */

/** Stable error codes, one per failure kind. */
export type IceTcpErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_STUN_PARSE'
  | 'ERR_STUN_INTEGRITY'
  | 'ERR_STUN_FINGERPRINT'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_FRAME_TRUNCATED'
  | 'ERR_CANDIDATE_PARSE'
  | 'ERR_CANDIDATE_LIMIT'
  | 'ERR_SIGNALLING'
  | 'ERR_ICE_FAILED'
  | 'ERR_ICE_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_CLOSED'
  | 'ERR_GATHER'
  | 'ERR_STUN_TRANSACTION'
  | 'ERR_TURN'
  | 'ERR_TURN_AUTH'
  | 'ERR_TURN_CAPACITY'
  | 'ERR_TURN_CONNECTION'
  | 'ERR_TURN_ALLOCATION_LOST'
  | 'ERR_SOCKET'
  | 'ERR_TUNNEL'
  | 'ERR_CONSENT_LOST'
  | 'ERR_CONNECTION_LOST'
  | 'ERR_RESUME'
  | 'ERR_PATH_CHANGED';

/** Base class of every ice-tcp error. */
export class IceTcpError extends Error {
  /** Stable, machine-readable code. */
  readonly code: IceTcpErrorCode;

  constructor(code: IceTcpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A caller passed an option or argument that cannot be used. */
export class InvalidArgumentError extends IceTcpError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** Bytes that are not a well-formed STUN message (RFC 8489 §5, §14). */
export class StunParseError extends IceTcpError {
  constructor(message: string) {
    super('ERR_STUN_PARSE', message);
  }
}

/** MESSAGE-INTEGRITY (or MESSAGE-INTEGRITY-SHA256) is missing or does not match. */
export class StunIntegrityError extends IceTcpError {
  constructor(message: string) {
    super('ERR_STUN_INTEGRITY', message);
  }
}

/** FINGERPRINT is missing or does not match. */
export class StunFingerprintError extends IceTcpError {
  constructor(message: string) {
    super('ERR_STUN_FINGERPRINT', message);
  }
}

/** A frame (RFC 4571) or STUN message announced a length above the configured limit. */
export class FrameTooLargeError extends IceTcpError {
  /** The length the peer announced. */
  readonly length: number;
  /** The configured maximum. */
  readonly limit: number;

  constructor(length: number, limit: number) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${limit}`);
    this.length = length;
    this.limit = limit;
  }
}

/** The stream ended in the middle of a frame. */
export class FrameTruncatedError extends IceTcpError {
  /** Bytes of the unfinished frame that were buffered when the stream ended. */
  readonly buffered: number;

  constructor(buffered: number) {
    super('ERR_FRAME_TRUNCATED', `stream ended inside a frame (${buffered} bytes buffered)`);
    this.buffered = buffered;
  }
}

/** An `a=candidate` line could not be parsed; `token` names the offending field. */
export class CandidateParseError extends IceTcpError {
  /** The field that was wrong, e.g. `port` or `tcptype`. */
  readonly token: string;
  /** The input line. */
  readonly line: string;

  constructor(token: string, detail: string, line: string) {
    super('ERR_CANDIDATE_PARSE', `bad candidate ${token}: ${detail} in ${JSON.stringify(line)}`);
    this.token = token;
    this.line = line;
  }
}

/** A remote candidate beyond `maxRemoteCandidates`: it is dropped (the ones before it stay). */
export class CandidateLimitError extends IceTcpError {
  /** The limit in force. */
  readonly limit: number;

  constructor(limit: number) {
    super(
      'ERR_CANDIDATE_LIMIT',
      `more than ${limit} remote candidates (maxRemoteCandidates): candidate dropped`,
    );
    this.limit = limit;
  }
}

/** A signalling message was malformed or the signalling channel failed. */
export class SignallingError extends IceTcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SIGNALLING', message, options);
  }
}

/** Why a rendezvous server refused or ended a WebSocket signalling connection. */
export type RendezvousRefusal =
  | 'unauthorized'
  | 'bad-room'
  | 'room-full'
  | 'too-many-rooms'
  | 'message-too-large'
  | 'rate-limited'
  | 'room-idle'
  | 'server-closing'
  | 'connection-lost';

/** The rendezvous server refused the WebSocket or closed it (`reason`); the code stays `ERR_SIGNALLING`. */
export class RendezvousError extends SignallingError {
  /** Why, as one stable word. */
  readonly reason: RendezvousRefusal;

  constructor(reason: RendezvousRefusal, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Every candidate pair failed: no connection is possible with the candidates exchanged. */
export class IceFailedError extends IceTcpError {
  constructor(message: string) {
    super('ERR_ICE_FAILED', message);
  }
}

/** The overall connect timeout elapsed before a pair was nominated. */
export class IceTimeoutError extends IceTcpError {
  constructor(message: string) {
    super('ERR_ICE_TIMEOUT', message);
  }
}

/**
 * The peer stopped consenting to our traffic on the selected pair (RFC 7675): no authenticated answer to a
 * consent check for `consentTimeoutMs`, or an authenticated error answer. The connection stops carrying data.
 */
export class ConsentLostError extends IceTcpError {
  /** `'expired'`: no answer in time; `'revoked'`: the peer answered with an authenticated error. */
  readonly reason: 'expired' | 'revoked';
  /** The STUN error code of the revoking answer, when there was one. */
  readonly stunCode: number | undefined;

  constructor(reason: 'expired' | 'revoked', message: string, stunCode?: number) {
    super('ERR_CONSENT_LOST', message);
    this.reason = reason;
    this.stunCode = stunCode;
  }
}

/** How the selected connection was lost: see {@link ConnectionLostError}. */
export type ConnectionLossReason = 'reset' | 'relay-lost' | 'closed' | 'unanswered';

/**
 * The selected connection stopped working: reset or broken (`'reset'`, the socket error as `cause`), its TURN
 * allocation lost (`'relay-lost'`, an `ERR_TURN_ALLOCATION_LOST` {@link TurnError} as `cause`), ended by
 * both sides (`'closed'`), or the peer left a consent check unanswered for a whole interval (`'unanswered'`,
 * maybe transient: see the README, "Connection states").
 */
export class ConnectionLostError extends IceTcpError {
  /** What happened, as one stable word. */
  readonly reason: ConnectionLossReason;

  constructor(reason: ConnectionLossReason, message: string, options?: { cause?: unknown }) {
    super('ERR_CONNECTION_LOST', message, options);
    this.reason = reason;
  }
}

/** The operation was cancelled through an `AbortSignal`. */
export class AbortedError extends IceTcpError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/** The agent or connection was closed while the operation was pending. */
export class ClosedError extends IceTcpError {
  constructor(message = 'closed') {
    super('ERR_CLOSED', message);
  }
}

/** Gathering from a STUN or TURN server failed (the agent still gathers the other candidates). */
export class GatherError extends IceTcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_GATHER', message, options);
  }
}

/** A STUN transaction timed out, was answered with an error, or was answered with garbage. */
export class StunTransactionError extends IceTcpError {
  /** The STUN error code of an error response, when there was one. */
  readonly stunCode: number | undefined;

  constructor(message: string, stunCode?: number, options?: { cause?: unknown }) {
    super('ERR_STUN_TRANSACTION', message, options);
    this.stunCode = stunCode;
  }
}

/** A TURN operation failed; `stunCode` carries the server's error code when it sent one. */
export class TurnError extends IceTcpError {
  /** The STUN error code of the server's error response, when there was one. */
  readonly stunCode: number | undefined;

  constructor(
    message: string,
    stunCode?: number,
    code:
      | 'ERR_TURN'
      | 'ERR_TURN_AUTH'
      | 'ERR_TURN_CAPACITY'
      | 'ERR_TURN_CONNECTION'
      | 'ERR_TURN_ALLOCATION_LOST' = 'ERR_TURN',
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.stunCode = stunCode;
  }
}

/** A socket operation failed in a way the caller must see (bind, listen). */
export class SocketError extends IceTcpError {
  /** The system error code (`EADDRINUSE`, ...), when known. */
  readonly syscallCode: string | undefined;

  constructor(message: string, syscallCode?: string, options?: { cause?: unknown }) {
    super('ERR_SOCKET', message, options);
    this.syscallCode = syscallCode;
  }
}

/** The errno-style code (`ECONNREFUSED`, ...) carried by a Node system error, if any. */
export function syscallCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === 'string' ? code : undefined;
}

/** Which {@link IceTcpError} a foreign throwable becomes in {@link wrapError}. */
export type WrapAs = 'socket' | 'turn' | 'signalling' | 'gather';

/**
 * The one error wrapper: an {@link IceTcpError} passes through unchanged, anything else (a Node system error,
 * a bug's TypeError, a thrown string) becomes the `as` kind with message `${context}: ${detail}`, the original
 * as `cause` and, for sockets, its errno code as `syscallCode`, so callers always match on `code`.
 */
export function wrapError(error: unknown, context: string, as: WrapAs = 'socket'): IceTcpError {
  if (error instanceof IceTcpError) return error;
  const message = `${context}: ${error instanceof Error ? error.message : String(error)}`;
  const options = { cause: error };
  switch (as) {
    case 'turn':
      return new TurnError(message, undefined, 'ERR_TURN', options);
    case 'signalling':
      return new SignallingError(message, options);
    case 'gather':
      return new GatherError(message, options);
    default:
      return new SocketError(message, syscallCodeOf(error), options);
  }
}

/** The error an aborted signal stands for: its reason when that is ours, an {@link AbortedError} otherwise. */
export function abortReason(signal: AbortSignal): IceTcpError {
  const reason: unknown = signal.reason;
  if (reason instanceof IceTcpError) return reason;
  return new AbortedError(undefined, { cause: reason });
}

/** A tunnel stream was reset by the peer, its connection went away, or the peer broke the mux protocol. */
export class TunnelError extends IceTcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TUNNEL', message, options);
  }
}

/** The peer broke the stream-resume protocol (an acknowledgement or RESUME offset it cannot have), or it failed. */
export class ResumeError extends IceTcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RESUME', message, options);
  }
}

/**
 * An ICE restart moved the connection to a new path while `stream()` was in use, and the byte stream cannot
 * follow it: bytes in flight on the old path could be lost. The stream ends with this error (README, "ICE restart").
 */
export class PathChangedError extends IceTcpError {
  constructor(message: string) {
    super('ERR_PATH_CHANGED', message);
  }
}
