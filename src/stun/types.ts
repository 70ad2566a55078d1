/** An IP address and port as carried in (XOR-)MAPPED-ADDRESS and similar attributes. */
export interface TransportAddress {
  family: 4 | 6;
  /** Numeric address: dotted quad, or RFC 5952 IPv6 text without brackets or zone id. */
  address: string;
  port: number;
}

/** The ERROR-CODE attribute (RFC 8489 §14.8): `code` is class * 100 + number, or 0 for a received value outside the RFC's range. */
export interface StunErrorCode {
  code: number;
  reason: string;
}

/** One attribute as found in a received message; `value` is a view into `raw`, not a copy. */
export interface RawAttribute {
  type: number;
  value: Buffer;
  /** offset of the attribute header in raw */
  offset: number;
}
