import type {
  IceAgent,
  IceConnection,
  IceState,
  SelectedPair,
  Signaller,
  SignalMessage,
} from '../../src/index.js';

/** Resolves with the next value of an event; rejects after `ms` so that a hang fails the test, not its timeout. */
export function nextEvent<T>(
  on: (listener: (value: T) => void) => void,
  off: (listener: (value: T) => void) => void,
  what: string,
  ms: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off(listener);
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    const listener = (value: T) => {
      clearTimeout(timer);
      off(listener);
      resolve(value);
    };
    on(listener);
  });
}

/** The connection's next 'path-change'. */
export function nextPathChange(conn: IceConnection, ms: number): Promise<SelectedPair> {
  return nextEvent<SelectedPair>(
    (l) => conn.on('path-change', l),
    (l) => conn.off('path-change', l),
    "'path-change'",
    ms,
  );
}

/** The agent's next change to `state`. */
export function nextState(agent: IceAgent, state: IceState, ms: number): Promise<IceState> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off('state', listener);
      reject(new Error(`no state '${state}' within ${ms} ms (now ${agent.state})`));
    }, ms);
    const listener = (s: IceState) => {
      if (s !== state) return;
      clearTimeout(timer);
      agent.off('state', listener);
      resolve(s);
    };
    agent.on('state', listener);
  });
}

/**
 * Sends numbered packets (4-byte sequence number) every `intervalMs` from `from` and records what `to`
 * receives, with the arrival times: what a media stream across a restart sees.
 */
export class SequencedFlow {
  readonly received: number[] = [];
  readonly arrivals: number[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  sendErrors = 0;

  constructor(
    private readonly from: IceConnection,
    to: IceConnection,
    private readonly intervalMs: number,
  ) {
    to.on('packet', (p) => {
      this.received.push(p.readUInt32BE(0));
      this.arrivals.push(performance.now());
    });
  }

  start(): void {
    this.timer = setInterval(() => this.sendOne(), this.intervalMs);
  }

  stop(): number {
    clearInterval(this.timer);
    return this.next;
  }

  /** Resolves once `count` more packets arrived than now. */
  async waitFor(count: number, ms: number): Promise<void> {
    const target = this.received.length + count;
    const deadline = performance.now() + ms;
    while (this.received.length < target) {
      if (performance.now() > deadline) throw new Error(`only ${this.received.length} of ${target} packets`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Packets received out of order or twice (each received sequence number must exceed the one before). */
  disorder(): number {
    let bad = 0;
    for (let i = 1; i < this.received.length; i++) {
      if ((this.received[i] ?? 0) <= (this.received[i - 1] ?? 0)) bad++;
    }
    return bad;
  }

  /** Longest pause between two arrivals, in ms. */
  largestGap(): number {
    let gap = 0;
    for (let i = 1; i < this.arrivals.length; i++) {
      gap = Math.max(gap, (this.arrivals[i] ?? 0) - (this.arrivals[i - 1] ?? 0));
    }
    return gap;
  }

  private sendOne(): void {
    const p = Buffer.alloc(64);
    p.writeUInt32BE(this.next, 0);
    try {
      this.from.send(p);
      this.next++;
    } catch {
      // the path is down (reset): the packet is not sent, and not counted
      this.sendErrors++;
    }
  }
}

/** A signaller whose incoming messages can be held back (a slow signalling channel), then let through in order. */
export class GatedSignaller implements Signaller {
  private held: SignalMessage[] | undefined;
  private handler: ((m: SignalMessage) => void) | undefined;

  constructor(private readonly inner: Signaller) {}

  send(message: SignalMessage): void | Promise<void> {
    return this.inner.send(message);
  }

  onMessage(handler: (message: SignalMessage) => void): () => void {
    this.handler = handler;
    return this.inner.onMessage((m) => {
      if (this.held) this.held.push(m);
      else handler(m);
    });
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) this.handler?.(m);
  }
}
