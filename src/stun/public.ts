/**
 * `ice-tcp/stun`: the STUN codec (RFC 8489 messages, ICE, RFC 5780 and TURN/RFC 6062 attributes, short- and
 * long-term integrity, FINGERPRINT) for applications that speak STUN themselves. Its errors
 * (`StunParseError`, ...) are exported from `ice-tcp`, so one class is caught whichever entry threw it.
 */

export { type StunBuildOptions, StunMessageBuilder } from './builder.js';
export {
  FINGERPRINT_XOR,
  isComprehensionRequired,
  isKnownAttribute,
  MAGIC_COOKIE,
  STUN_HEADER_LENGTH,
  STUN_MAX_MESSAGE_LENGTH,
  StunAttr,
  StunClass,
  StunMethod,
  TRANSACTION_ID_LENGTH,
  TRANSPORT_TCP,
} from './constants.js';
export { looksLikeStun, stunMessageLength } from './demux.js';
export { type IntegrityKey, longTermKey, newTransactionId, shortTermKey } from './integrity.js';
export { StunMessage } from './message.js';
export { reasonPhrase } from './reason-phrases.js';
export type { RawAttribute, StunErrorCode, TransportAddress } from './types.js';
