/** The IPC messages between a mux's cluster primary and its workers (all carry `iceTcpMux`). */
export type MuxIpcMessage =
  /** worker → primary: send me the port's address. */
  | { iceTcpMux: 'hello' }
  /** worker → primary: route `ufrag` to me (true) / not any more (false). */
  | { iceTcpMux: 'own'; ufrag: string; owned: boolean }
  /** primary → worker: the port's address. */
  | { iceTcpMux: 'address'; address: string; port: number; publicAddress?: { address: string; port: number } }
  /** primary → worker, with the socket as the handle: a connection for `ufrag`; `head` (base64) was read. */
  | { iceTcpMux: 'connection'; ufrag: string; head: string };

/** The message if `value` is one of ours and well formed, else undefined (IPC carries others' messages too). */
export function asMuxMessage(value: unknown): MuxIpcMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  switch (m.iceTcpMux) {
    case 'hello':
      return { iceTcpMux: 'hello' };
    case 'own':
      return typeof m.ufrag === 'string' && typeof m.owned === 'boolean'
        ? { iceTcpMux: 'own', ufrag: m.ufrag, owned: m.owned }
        : undefined;
    case 'address':
      return typeof m.address === 'string' && typeof m.port === 'number' ? (m as MuxIpcMessage) : undefined;
    case 'connection':
      return typeof m.ufrag === 'string' && typeof m.head === 'string' ? (m as MuxIpcMessage) : undefined;
    default:
      return undefined;
  }
}
