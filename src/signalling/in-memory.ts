import type { Signaller, SignalMessage } from './messages.js';

/**
 * Two signallers wired to each other in one process (tests, the demo). Delivery is asynchronous and in order,
 * like a real channel; messages sent before the peer registers a handler are kept until it does.
 */
export function createInMemorySignallerPair(): [Signaller, Signaller] {
  const a = new InMemorySignaller();
  const b = new InMemorySignaller();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class InMemorySignaller implements Signaller {
  peer: InMemorySignaller | undefined;
  private readonly handlers = new Set<(message: SignalMessage) => void>();
  private readonly backlog: SignalMessage[] = [];

  send(message: SignalMessage): void {
    const peer = this.peer;
    if (!peer) return;
    // structuredClone: the receiver must not share objects with the sender, as over a wire
    const copy = structuredClone(message);
    setImmediate(() => peer.deliver(copy));
  }

  onMessage(handler: (message: SignalMessage) => void): () => void {
    this.handlers.add(handler);
    const pending = this.backlog.splice(0);
    for (const m of pending) handler(m);
    return () => this.handlers.delete(handler);
  }

  private deliver(message: SignalMessage): void {
    if (this.handlers.size === 0) {
      this.backlog.push(message);
      return;
    }
    for (const h of this.handlers) h(message);
  }
}
