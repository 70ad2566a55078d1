/** The fixed magic cookie of every RFC 5389/8489 STUN message (bytes 4..7 of the header). */
export const MAGIC_COOKIE = 0x2112a442;

/** Size of the STUN header: type, length, magic cookie, 96-bit transaction id. */
export const STUN_HEADER_LENGTH = 20;

/** Size of a STUN transaction id in bytes. */
export const TRANSACTION_ID_LENGTH = 12;

/** The largest message the 16-bit length field can describe, header included. */
export const STUN_MAX_MESSAGE_LENGTH = STUN_HEADER_LENGTH + 0xfffc;

/** XOR constant applied to the CRC-32 in FINGERPRINT (RFC 8489 §14.7). */
export const FINGERPRINT_XOR = 0x5354554e;

/** The two class bits of the message type (RFC 8489 §5). */
export const StunClass = { Request: 0, Indication: 1, SuccessResponse: 2, ErrorResponse: 3 } as const;
/** One of the four STUN message classes. */
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** STUN methods used by ICE (Binding) and TURN over TCP (RFC 8656, RFC 6062). */
export const StunMethod = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  Connect: 0x00a,
  ConnectionBind: 0x00b,
  ConnectionAttempt: 0x00c,
} as const;
/** A STUN method number (12 bits); the named ones are in {@link StunMethod}. */
export type StunMethod = (typeof StunMethod)[keyof typeof StunMethod];

/** Attribute types this codec understands (RFC 8489, 8445, 5780, 8656, 6062). */
export const StunAttr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedTransport: 0x0019,
  MessageIntegritySha256: 0x001c,
  XorMappedAddress: 0x0020,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  ConnectionId: 0x002a,
  Software: 0x8022,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
  ResponseOrigin: 0x802b,
  OtherAddress: 0x802c,
  /** ice-tcp's own stream-resume offset (README, "Seamless path switch"); unassigned by IANA, comprehension-optional. */
  IceTcpResume: 0xc1ce,
  /**
   * ice-tcp's ICE options in a connectivity check, for a peer whose signalling lost ours (README, "Seamless path
   * switch"); unassigned by IANA, comprehension-optional.
   */
  IceTcpOptions: 0xc1cf,
} as const;
/** An attribute type this codec understands; others are carried as raw values. */
export type StunAttr = (typeof StunAttr)[keyof typeof StunAttr];

/** Protocol number for REQUESTED-TRANSPORT meaning TCP (RFC 6062 §6.1). */
export const TRANSPORT_TCP = 6;

const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set<number>(Object.values(StunAttr));

/** Whether this codec knows how to interpret the attribute type. */
export function isKnownAttribute(type: number): boolean {
  return KNOWN_ATTRIBUTES.has(type);
}

/** Whether an attribute must be understood by the receiver (RFC 8489 §14: types 0x0000-0x7FFF). */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/** Interleaves method and class bits into the 14-bit message type (RFC 8489 §5, figure 3). */
export function encodeMessageType(method: number, cls: StunClass): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 1) << 4) |
    ((cls & 2) << 7)
  );
}

/** Extracts the 12-bit method from a message type. */
export function methodOf(messageType: number): number {
  return (messageType & 0x000f) | ((messageType & 0x00e0) >> 1) | ((messageType & 0x3e00) >> 2);
}

/** Extracts the class from a message type. */
export function classOf(messageType: number): StunClass {
  return (((messageType >> 4) & 1) | ((messageType >> 7) & 2)) as StunClass;
}
