import type { LocalCandidate } from '../candidate/types.js';
import type { IceTcpError } from '../errors.js';
import type { FramedConnection, PassiveAcceptor, SimultaneousOpenPort } from '../transport/index.js';

/** A relayed candidate's way to reach a peer and to learn of peers reaching it (TURN, RFC 6062). */
export interface RelayEndpointHandle {
  /** Opens a relayed connection to the peer (TURN Connect + ConnectionBind), framed like any pair. */
  connect(address: string, port: number, timeoutMs: number): Promise<FramedConnection>;
  /** Registers the handler for peers that connected to the relayed address. */
  onInbound(handler: (connection: FramedConnection) => void): void;
  /** Lets this peer IP reach the relayed address (TURN CreatePermission, kept refreshed); idempotent. */
  permit(address: string): void;
  /** Releases the allocation once the connections it carries have closed. */
  close(): void;
  /** Why the allocation was lost under us (`ERR_TURN_ALLOCATION_LOST`); undefined while it lives or once released. */
  lost(): IceTcpError | undefined;
}

/** A gathered local candidate with the socket object that serves it. */
export type LocalEndpoint =
  | { kind: 'active'; candidate: LocalCandidate }
  | { kind: 'passive'; candidate: LocalCandidate; listener: PassiveAcceptor }
  | { kind: 'so'; candidate: LocalCandidate; port: SimultaneousOpenPort }
  | ({ kind: 'relay'; candidate: LocalCandidate } & RelayEndpointHandle);
