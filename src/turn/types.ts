import type net from 'node:net';
import type { TransportAddress } from '../stun/index.js';

/**
 * A TURN server for relayed candidates (RFC 8656 over TCP with RFC 6062 TCP allocations) and how to
 * authenticate (long-term credentials, RFC 8489 §9.2). The one shape from the agent's `turnServers` option
 * down to the socket: a new field here reaches the allocation without being copied on the way.
 */
export interface TurnServerOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** `tcp` (default) or `tls`: TURN over TLS (RFC 6062 §4.1) for the control and every data connection. */
  transport?: 'tcp' | 'tls';
  /** TLS only: verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** TLS only: trusted CA certificates (PEM), e.g. a self-signed server's own certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** LIFETIME to ask for (s); the server may grant less, and its answer is what the allocation is refreshed by. */
  lifetimeSeconds?: number;
  /** How long the server keeps a permission (s); default 300 (RFC 8656 §9). Set it when the server is shorter. */
  permissionLifetimeSeconds?: number;
  /**
   * Relayed inbound connections (ConnectionAttempt, RFC 6062 §4.4) open or being bound at once; further
   * attempts are ignored (the server drops them after 30 s without ConnectionBind). Default 32.
   */
  maxInboundConnections?: number;
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
