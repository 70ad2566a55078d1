import { ResumeError } from '../errors.js';
import {
  type IntegrityKey,
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
} from '../stun/index.js';

/**
 * The ICE option token both peers advertise to use the stream-resume protocol (README, "Seamless path switch").
 * No `-`: RFC 8839's ice-option-tag is 1*ice-char (letters, digits, `+`, `/`), as in the registered `rtp+ecn`.
 */
export const RESUME_ICE_OPTION = 'icetcp+resume';

/** Whether the resume protocol is on: only when both sides advertised {@link RESUME_ICE_OPTION}. */
export function resumeNegotiated(
  localOptions: readonly string[] | undefined,
  remoteOptions: readonly string[] | undefined,
): boolean {
  return (
    (localOptions?.includes(RESUME_ICE_OPTION) ?? false) &&
    (remoteOptions?.includes(RESUME_ICE_OPTION) ?? false)
  );
}

/** One control message of the resume protocol, as the core sees it. */
export interface ResumeControl {
  /**
   * `ack`: what this side has received (the sender may free it); `resume`: the same, first frame on a new path;
   * `end`: the sender's stream ends after `bytes` bytes (in-band, not a TCP FIN: a side that sent a FIN could
   * no longer acknowledge).
   */
  kind: 'ack' | 'resume' | 'end';
  /**
   * `ack`/`resume`: application bytes received across every path, plus one once the peer's end was received
   * (the end counts as one unit after the last byte). `end`: the stream's length in bytes.
   */
  bytes: number;
}

const KINDS = ['ack', 'resume', 'end'] as const;
/** kind (1 byte: 1 ACK, 2 RESUME, 3 END), 3 reserved zero bytes, 64-bit big-endian byte count. */
const VALUE_LENGTH = 12;

/**
 * A Binding indication carrying the IceTcpResume attribute, signed with the sender's own short-term key (the
 * way the agent takes a signed indication as its own) and ending with FINGERPRINT.
 */
export function encodeResumeControl(control: ResumeControl, senderKey: IntegrityKey): Buffer {
  const value = Buffer.alloc(VALUE_LENGTH);
  value[0] = KINDS.indexOf(control.kind) + 1;
  value.writeBigUInt64BE(BigInt(control.bytes), 4);
  return new StunMessageBuilder(StunMethod.Binding, StunClass.Indication)
    .add(StunAttr.IceTcpResume, value)
    .build({ integrityKey: senderKey, fingerprint: true });
}

/**
 * The control message a STUN message carries, or undefined when it is not one of ours: another class or
 * method, no IceTcpResume attribute, or not signed with the peer's key (then it is not ICE's at all). A
 * signed one with a malformed value is the peer breaking the protocol: {@link ResumeError}.
 */
export function decodeResumeControl(message: StunMessage, peerKey: IntegrityKey): ResumeControl | undefined {
  if (!message.isIndication() || message.method !== StunMethod.Binding) return undefined;
  const value = message.get(StunAttr.IceTcpResume);
  if (value === undefined) return undefined;
  if (!message.verifyFingerprint() || !message.verifyIntegrity(peerKey)) return undefined;
  const kind = value.length === VALUE_LENGTH ? KINDS[(value[0] ?? 0) - 1] : undefined;
  if (kind === undefined) {
    throw new ResumeError(`malformed resume attribute (${value.length} bytes, kind ${value[0]})`);
  }
  const bytes = value.readBigUInt64BE(4);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new ResumeError(`resume offset ${bytes} out of range`);
  return { kind, bytes: Number(bytes) };
}

/** {@link decodeResumeControl} on a raw frame: undefined for anything that is not a STUN message at all. */
export function decodeResumeFrame(frame: Buffer, peerKey: IntegrityKey): ResumeControl | undefined {
  let message: StunMessage;
  try {
    message = StunMessage.decode(frame);
  } catch {
    return undefined;
  }
  return decodeResumeControl(message, peerKey);
}
