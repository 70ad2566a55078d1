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
