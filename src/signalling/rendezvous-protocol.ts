import type { RendezvousRefusal } from '../errors.js';

// The few conventions a rendezvous server and WebSocketSignaller share. Everything else a client sends is
// relayed verbatim to the other members of its room; the server never parses it.

/** A room name: the whole URL path after `/`. Unreserved URL characters only, so no decoding is involved. */
export const ROOM_NAME = /^[A-Za-z0-9._~-]{1,128}$/;

/** HTTP status of a refused WebSocket upgrade, by reason. */
export const REFUSAL_STATUS = {
  unauthorized: 401,
  'bad-room': 404,
  'room-full': 409,
  'too-many-rooms': 503,
} as const satisfies Partial<Record<RendezvousRefusal, number>>;

/** WebSocket close code of a connection the server ended, by reason (1009 and 1001 are RFC 6455's). */
export const CLOSE_CODE = {
  'message-too-large': 1009,
  'server-closing': 1001,
  'rate-limited': 4029,
  'room-idle': 4008,
} as const satisfies Partial<Record<RendezvousRefusal, number>>;

/**
 * Control messages from the server: `welcome` (first message on a connection: how many other members the room
 * had when we joined), then another member joined or left.
 */
export type RendezvousNotice =
  | { rendezvous: 'welcome'; peers: number }
  | { rendezvous: 'peer-joined' }
  | { rendezvous: 'peer-left' };

/** The reason for an HTTP status or a close code, if it is one of ours. */
export function refusalFor(statusOrCode: number): RendezvousRefusal | undefined {
  for (const table of [REFUSAL_STATUS, CLOSE_CODE]) {
    for (const [reason, value] of Object.entries(table)) {
      if (value === statusOrCode) return reason as RendezvousRefusal;
    }
  }
  return undefined;
}
