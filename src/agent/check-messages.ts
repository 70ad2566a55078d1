import { InvalidArgumentError } from '../errors.js';
import {
  StunAttr,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
  type TransportAddress,
} from '../stun/index.js';
import type { IceRole } from './options.js';

/** What goes into one connectivity check (RFC 8445 §7.2.2, RFC 6544 §7.1). */
export interface CheckRequestInput {
  localUfrag: string;
  remoteUfrag: string;
  remotePwd: string;
  /** PRIORITY: the priority a peer-reflexive candidate of the local candidate's tcptype would get. */
  priority: number;
  role: IceRole;
  tieBreaker: bigint;
  useCandidate: boolean;
  /** The transaction id to use (a consent check's comes from its state machine); default a random one. */
  transactionId?: Buffer;
  /** ICE option tokens to state in the check (ICE-TCP-OPTIONS); none: the attribute is left out. */
  iceOptions?: readonly string[];
}

/** Longest ICE-TCP-OPTIONS value taken from a peer: a few tokens, never a buffer a stranger sizes. */
const MAX_ICE_OPTIONS_LENGTH = 256;
const ICE_OPTION_TOKEN = /^[A-Za-z0-9+/]+$/;

/** Adds ICE-TCP-OPTIONS (space-separated RFC 8839 ice-option-tags) when there is anything to state. */
function addIceOptions(b: StunMessageBuilder, options: readonly string[] | undefined): void {
  if (options && options.length > 0) b.add(StunAttr.IceTcpOptions, Buffer.from(options.join(' '), 'ascii'));
}

/**
 * The ICE option tokens an authenticated check or response of the peer states (ICE-TCP-OPTIONS), or undefined
 * when it states none; malformed tokens are skipped, an oversized value is ignored whole.
 */
export function peerIceOptions(message: StunMessage): string[] | undefined {
  const value = message.get(StunAttr.IceTcpOptions);
  if (value === undefined || value.length > MAX_ICE_OPTIONS_LENGTH) return undefined;
  return value
    .toString('latin1')
    .split(' ')
    .filter((t) => ICE_OPTION_TOKEN.test(t));
}

/** Builds a signed Binding request; returns the bytes and the transaction id to match the answer. */
export function buildCheckRequest(input: CheckRequestInput): { bytes: Buffer; transactionId: Buffer } {
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, input.transactionId)
    .username(`${input.remoteUfrag}:${input.localUfrag}`)
    .priority(input.priority);
  if (input.role === 'controlling') b.iceControlling(input.tieBreaker);
  else b.iceControlled(input.tieBreaker);
  if (input.useCandidate) b.useCandidate();
  addIceOptions(b, input.iceOptions);
  const bytes = b.build({ integrityKey: shortTermKey(input.remotePwd), fingerprint: true });
  return { bytes, transactionId: b.transactionId };
}

/** Result of authenticating an incoming check (RFC 8445 §7.3, RFC 8489 §9.1.3). */
export type CheckAuthentication =
  | { ok: true; remoteUfrag: string }
  | { ok: false; code: 400 | 401; reason: string };

/**
 * Authenticates a Binding request with our short-term credentials: USERNAME must be `ourUfrag:theirUfrag`,
 * MESSAGE-INTEGRITY must verify with our password, FINGERPRINT must be present and right.
 */
export function authenticateCheck(
  request: StunMessage,
  localUfrag: string,
  localKey: Buffer,
): CheckAuthentication {
  if (!request.hasFingerprint() || !request.verifyFingerprint()) {
    return { ok: false, code: 400, reason: 'missing or bad FINGERPRINT' };
  }
  const username = request.username();
  if (username === undefined || !request.hasIntegrity() || request.priority() === undefined) {
    return { ok: false, code: 400, reason: 'missing USERNAME, MESSAGE-INTEGRITY or PRIORITY' };
  }
  const colon = username.indexOf(':');
  if (colon < 0 || username.slice(0, colon) !== localUfrag) {
    return { ok: false, code: 401, reason: 'unknown username' };
  }
  if (!request.verifyIntegrity(localKey)) return { ok: false, code: 401, reason: 'bad MESSAGE-INTEGRITY' };
  if (request.iceControlling() !== undefined && request.iceControlled() !== undefined) {
    return { ok: false, code: 400, reason: 'both ICE-CONTROLLING and ICE-CONTROLLED' };
  }
  return { ok: true, remoteUfrag: username.slice(colon + 1) };
}

/** Success response to a check: XOR-MAPPED-ADDRESS = the source we saw, signed with our password. */
export function buildCheckSuccess(
  request: StunMessage,
  mapped: TransportAddress,
  localKey: Buffer,
  iceOptions?: readonly string[],
): Buffer {
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, request.transactionId);
  b.xorMappedAddress(mapped);
  addIceOptions(b, iceOptions);
  return b.build({ integrityKey: localKey, fingerprint: true });
}

/**
 * A Binding indication (RFC 8445 §11 keepalive) signed with our password: an ICE peer takes it as its
 * session's own and drops it silently, so it never reaches the peer's application.
 */
export function buildKeepalive(localKey: Buffer): Buffer {
  return new StunMessageBuilder(StunMethod.Binding, StunClass.Indication).build({
    integrityKey: localKey,
    fingerprint: true,
  });
}

/** Error response (400, 401 unsigned; 487 signed, RFC 8445 §7.3.1.1). */
export function buildCheckError(
  request: StunMessage,
  code: number,
  reason: string,
  localKey?: Buffer,
): Buffer {
  if (code < 300 || code > 699) throw new InvalidArgumentError(`bad STUN error code ${code}`);
  const b = new StunMessageBuilder(
    StunMethod.Binding,
    StunClass.ErrorResponse,
    request.transactionId,
  ).errorCode(code, reason);
  return b.build(localKey ? { integrityKey: localKey, fingerprint: true } : { fingerprint: true });
}

/** What the answer to our check means. */
export type CheckAnswer =
  | { kind: 'success'; mapped: TransportAddress | undefined }
  | { kind: 'role-conflict' }
  | { kind: 'failure'; reason: string };

/** Interprets the response to our check; responses must be signed with the remote password (RFC 8445 §7.2.5). */
export function interpretCheckResponse(response: StunMessage, remoteKey: Buffer): CheckAnswer {
  if (response.isSuccess()) {
    if (!response.hasIntegrity() || !response.verifyIntegrity(remoteKey)) {
      return { kind: 'failure', reason: 'success response without valid MESSAGE-INTEGRITY' };
    }
    return { kind: 'success', mapped: response.xorMappedAddress() };
  }
  const error = response.errorCode();
  if (error?.code === 487) return { kind: 'role-conflict' };
  return { kind: 'failure', reason: error ? `error ${error.code} ${error.reason}` : 'unexpected response' };
}
