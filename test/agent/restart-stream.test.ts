import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResumableDuplex } from '../../src/connection/resumable-duplex.js';
import type { IceConnection } from '../../src/index.js';
import { agentPair } from './helpers.js';
import { nextPathChange, nextState } from './restart-helpers.js';
import { BothWays } from './stream-transfer.js';

/** Stream mode across ICE restarts with the resume protocol negotiated (README, "Seamless path switch"). */

/** Generous: a loaded 2-core machine may stall. */
const WAIT = 60_000;
const MB = 1024 * 1024;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function streamingPair(extra = {}) {
  const p = agentPair(
    { role: 'controlling', addresses: ['127.0.0.1'], ...extra },
    { role: 'controlled', addresses: ['127.0.0.1'], ...extra },
  );
  cleanups.push(() => p.close());
  const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
  return { ...p, ca, cb, sa: ca.stream(), sb: cb.stream() };
}

describe('stream() across restart(), old path alive', () => {
  it('200 MB each way at once, a restart in the middle: every byte once, in order, on both ends', {
    timeout: 180_000,
  }, async () => {
    const p = await streamingPair();
    const n = 200 * MB;
    const t = new BothWays(p.sa, p.sb, n);
    await t.reach(n / 3, WAIT);
    const moved = Promise.all([nextPathChange(p.ca, WAIT), nextPathChange(p.cb, WAIT)]);
    p.bob.restart();
    await moved;
    const r = await t.done;
    expect(r.readB).toBe(r.sentA);
    expect(r.readA).toBe(r.sentB);
    expect([p.alice.state, p.bob.state]).toEqual(['completed', 'completed']);
  });

  it('10 restarts in a row during one 64 MB transfer each way, from either side', {
    timeout: 300_000,
  }, async () => {
    const p = await streamingPair();
    const n = 64 * MB;
    const t = new BothWays(p.sa, p.sb, n);
    for (let i = 1; i <= 10; i++) {
      await t.reach((i * n) / 12, WAIT);
      const moved = Promise.all([nextPathChange(p.ca, WAIT), nextPathChange(p.cb, WAIT)]);
      (i % 2 ? p.alice : p.bob).restart();
      await moved;
    }
    const r = await t.done;
    expect(r.readB).toBe(r.sentA);
    expect(r.readA).toBe(r.sentB);
  });
});

/** Resets the TCP connection under an IceConnection, as a broken network would: what was in flight is lost. */
function breakPath(conn: IceConnection): void {
  (conn as unknown as { framed: { socket: net.Socket } }).framed.socket.resetAndDestroy();
}

/** Bytes `from` wrote that `to` has not received: what a dead path takes with it, to be sent again. */
function inFlight(
  from: ReturnType<IceConnection['stream']>,
  to: ReturnType<IceConnection['stream']>,
): number {
  return (from as ResumableDuplex).core.sendLedger.sent - (to as ResumableDuplex).core.receiveLedger.received;
}

describe('stream() across a restart after the old path died', () => {
  it('the path is reset under a transfer, then restart(): unacknowledged bytes are sent again, none lost', {
    timeout: 180_000,
  }, async () => {
    const p = await streamingPair();
    const n = 32 * MB;
    const t = new BothWays(p.sa, p.sb, n);
    await t.reach(n / 3, WAIT);
    const lost = nextState(p.alice, 'disconnected', WAIT);
    const lostInFlight = inFlight(p.sa, p.sb);
    breakPath(p.ca);
    await lost;
    expect(lostInFlight).toBeGreaterThan(0);
    const moved = Promise.all([nextPathChange(p.ca, WAIT), nextPathChange(p.cb, WAIT)]);
    p.alice.restart();
    await moved;
    const r = await t.done;
    expect(r.readB).toBe(r.sentA);
    expect(r.readA).toBe(r.sentB);
  });

  it('autoRestart recovers a stream transfer whose path was reset, with no loss', {
    timeout: 180_000,
  }, async () => {
    const p = await streamingPair({ autoRestart: true, consentIntervalMs: 200, consentTimeoutMs: 20_000 });
    const n = 32 * MB;
    const t = new BothWays(p.sa, p.sb, n);
    await t.reach(n / 3, WAIT);
    const moved = Promise.all([nextPathChange(p.ca, WAIT), nextPathChange(p.cb, WAIT)]);
    breakPath(p.cb);
    await moved;
    const r = await t.done;
    expect(r.readB).toBe(r.sentA);
    expect(r.readA).toBe(r.sentB);
  });
});
