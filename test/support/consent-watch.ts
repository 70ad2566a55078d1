import type { IceAgent, IceConnection, IceState, IceTcpError } from '../../src/index.js';

/** One `'state'` event of an agent, with its reason and when it came (performance.now()). */
export interface StateChange {
  state: IceState;
  reason: IceTcpError | undefined;
  at: number;
}

/** Every `'state'` event from now on, with its reason and time. */
export function recordStates(agent: IceAgent): StateChange[] {
  const seen: StateChange[] = [];
  agent.on('state', (state, reason) => seen.push({ state, reason, at: performance.now() }));
  return seen;
}

/** Resolves at the agent's next change to `state`; rejects after `ms`, so a hang fails the test and says why. */
export function nextState(agent: IceAgent, state: IceState, ms: number): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${state}' within ${ms} ms (now ${agent.state})`)),
      ms,
    );
    const listener = (s: IceState, reason?: IceTcpError) => {
      if (s !== state) return;
      clearTimeout(timer);
      agent.off('state', listener);
      resolve({ state: s, reason, at: performance.now() });
    };
    agent.on('state', listener);
  });
}

/** Checks sent to us on the selected pair so far (the peer's consent checks and keepalive requests count). */
export function selectedChecksReceived(agent: IceAgent): number {
  return agent.getStats().pairs.find((p) => p.selected)?.checksReceived ?? 0;
}

/** A steady packet stream on `conn` (packet mode) that counts what comes back; `stop()` ends it. */
export interface PacketPinger {
  /** Packets sent and bytes received so far. */
  readonly sent: number;
  readonly receivedBytes: number;
  /** Resolves once `bytes` more than now have been received; rejects after `ms`. */
  receivedMore(bytes: number, ms: number): Promise<void>;
  stop(): void;
}

/**
 * Sends a 32-byte packet every `everyMs` (a send that throws, e.g. after lost consent, stops the stream) and
 * counts the bytes the peer sends back in any framing.
 */
export function startPinger(conn: IceConnection, everyMs: number): PacketPinger {
  let sent = 0;
  let receivedBytes = 0;
  const waiters = new Set<() => void>();
  conn.on('packet', (p) => {
    receivedBytes += p.length;
    for (const w of waiters) w();
  });
  const timer = setInterval(() => {
    try {
      conn.send(Buffer.from(`ping ${String(sent).padStart(10, '0')} ${'.'.repeat(15)}`));
      sent += 1;
    } catch {
      clearInterval(timer);
    }
  }, everyMs);
  return {
    get sent() {
      return sent;
    },
    get receivedBytes() {
      return receivedBytes;
    },
    receivedMore(bytes, ms) {
      const target = receivedBytes + bytes;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (receivedBytes < target) return;
          clearTimeout(limit);
          waiters.delete(check);
          resolve();
        };
        const limit = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`received ${receivedBytes} of ${target} bytes within ${ms} ms`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    stop() {
      clearInterval(timer);
    },
  };
}
