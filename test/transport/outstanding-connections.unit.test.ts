import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type FramedConnection, OutstandingConnections } from '../../src/transport/index.js';

/** A stand-in connection: the table only resets it and listens for its 'close'. */
class FakeConnection extends EventEmitter {
  resets = 0;
  readonly remoteAddress = '192.0.2.7';
  constructor(readonly remotePort: number) {
    super();
  }
  reset(): void {
    this.resets++;
    this.emit('close');
  }
}

function fakes(n: number): FakeConnection[] {
  return Array.from({ length: n }, (_, i) => new FakeConnection(40000 + i));
}

const asConnection = (c: FakeConnection) => c as unknown as FramedConnection;
/** Two event-loop turns: the table's trim runs after the connections accepted by now were read once. */
const twoTurns = () =>
  new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve))));

describe('OutstandingConnections at the cap', () => {
  it('evicts nobody accepted in the same burst before it could be read, then the oldest strangers', async () => {
    const table = new OutstandingConnections(2, 60_000);
    const [peer, junk1, junk2, junk3] = fakes(4);
    for (const c of [peer, junk1, junk2, junk3]) table.admit(asConnection(c!));
    // the peer's check was in its socket buffer: it is read (and authenticated) on the next turn
    expect(peer!.resets).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    table.release(asConnection(peer!));
    await twoTurns();
    expect(peer!.resets).toBe(0);
    expect(junk1!.resets).toBe(1);
    expect(junk2!.resets).toBe(0);
    expect(junk3!.resets).toBe(0);
    expect(table.size).toBe(2);
  });

  it('never holds more than four times the cap, however fast connections arrive', () => {
    const table = new OutstandingConnections(2, 60_000);
    const all = fakes(9);
    for (const c of all) table.admit(asConnection(c));
    expect(table.size).toBeLessThanOrEqual(8);
    expect(all[0]!.resets).toBe(1);
    expect(all[8]!.resets).toBe(0);
  });

  it('evicts down to the cap two turns after a burst, oldest first, newest kept', async () => {
    const table = new OutstandingConnections(3, 60_000);
    const all = fakes(6);
    for (const c of all) table.admit(asConnection(c));
    await twoTurns();
    expect(all.map((c) => c.resets)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(table.size).toBe(3);
  });
});
