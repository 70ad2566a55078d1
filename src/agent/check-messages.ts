import { InvalidArgumentError } from '../errors.js';
import {
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
}

/** Builds a signed Binding request; returns the bytes and the transaction id to match the answer. */
export function buildCheckRequest(input: CheckRequestInput): { bytes: Buffer; transactionId: Buffer } {
  const b = new StunMessageBuilder(StunMethod.Binding, StunClass.Request, input.transactionId)
    .username(`${input.remoteUfrag}:${input.localUfrag}`)
    .priority(input.priority);
  if (input.role === 'controlling') b.iceControlling(input.tieBreaker);
  else b.iceControlled(input.tieBreaker);
  if (input.useCandidate) b.useCandidate();
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
export function buildCheckSuccess(request: StunMessage, mapped: TransportAddress, localKey: Buffer): Buffer {
  return new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, request.transactionId)
    .xorMappedAddress(mapped)
    .build({ integrityKey: localKey, fingerprint: true });
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
