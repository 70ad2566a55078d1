/** Which side of the ICE session an agent takes; exactly one is controlling and decides the nomination (RFC 8445 §6.1.1). */
export type IceRole = 'controlling' | 'controlled';

/** RFC 8445 candidate types (RFC 5245 §15.1 `typ`). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** RFC 6544 §4.5 `tcptype`. */
export type TcpType = 'active' | 'passive' | 'so';

/** One ICE-TCP candidate, as carried in an `a=candidate` line. */
export interface Candidate {
  /** RFC 8445 §5.1.1.3 foundation: 1-32 ice-chars. */
  foundation: string;
  /** Component id, 1..256; ice-tcp uses 1. */
  component: number;
  /** Always `TCP` for ice-tcp; kept for the SDP line. */
  transport: 'TCP';
  /** RFC 8445 §5.1.2 priority, 1..2^31-1. */
  priority: number;
  /** Numeric IPv4 or IPv6 address (no brackets, no zone id). */
  address: string;
  /** Port; 9 for active candidates (RFC 6544 §4.5). */
  port: number;
  type: CandidateType;
  tcpType: TcpType;
  /** `raddr` for non-host candidates. */
  relatedAddress?: string;
  /** `rport` for non-host candidates. */
  relatedPort?: number;
  /** Extension name/value pairs after the known fields, in order (unknown ones kept verbatim). */
  extensions: Array<[string, string]>;
}

/** One of our candidates, with the transport address the agent really sends from. */
export interface LocalCandidate extends Candidate {
  id: string;
  /** The transport address the agent really uses (RFC 8445 §5.1.1.1 base). */
  baseAddress: string;
  /** Base port; 9 for active candidates, which never listen. */
  basePort: number;
}
