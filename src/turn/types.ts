import type net from 'node:net';
import type { TransportAddress } from '../stun/index.js';

/** Where the TURN server is and how to authenticate (long-term credentials, RFC 8489 §9.2). */
export interface TurnServerConfig {
  host: string;
  port: number;
  username: string;
  password: string;
  /** `tcp` (default) or `tls` (TURN over TLS, RFC 6062 §4.1 allows both). */
  transport?: 'tcp' | 'tls';
  /** TLS only: verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** TLS only: trusted CA certificates (PEM), for self-signed servers. */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** A relayed TCP connection to one peer: after ConnectionBind succeeded, a plain byte stream. */
export interface TurnPeerConnection {
  /** The peer's address as the server saw it (XOR-PEER-ADDRESS). */
  readonly peer: TransportAddress;
  /** CONNECTION-ID the server assigned to this peer connection. */
  readonly connectionId: number;
  /** Raw bytes to/from the peer; STUN is over on this socket. Bytes that arrived with the bind response are kept. */
  readonly socket: net.Socket;
}
