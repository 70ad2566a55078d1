import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { agentPair, roundTrip } from './helpers.js';
import { nextPathChange } from './restart-helpers.js';

/** Ten ICE restarts in a row leave nothing behind: sockets, listeners and timers of old generations all go. */

const WAIT = 15_000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function fds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Sockets and servers libuv still holds. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('10 restarts in a row', () => {
  it('keep the socket count flat while running and return to the baseline after close', async () => {
    const baseline = { fds: fds(), tcp: tcpHandles(), timers: timers() };
    const p = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlled', addresses: ['127.0.0.1'] },
    );
    cleanups.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    await roundTrip(ca, cb);
    const perRestart: number[] = [];
    for (let i = 0; i < 10; i++) {
      const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
      (i % 2 === 0 ? p.alice : p.bob).restart();
      await moved;
      // a packet each way on the new path: each side lets its old path go once the peer is heard there
      await roundTrip(ca, cb);
      // the two ends of the one connection in use: old paths, listeners and S-O ports of every generation are gone
      await until(`restart ${i + 1}: old paths released`, () => tcpHandles() <= baseline.tcp + 4, WAIT);
      perRestart.push(tcpHandles());
    }
    console.log(`tcp handles after each restart: ${perRestart.join(' ')} (baseline ${baseline.tcp})`);
    // what a generation holds (listeners, S-O ports, the selected connection) is the same at the 10th as the 1st
    expect(perRestart[9]).toBeLessThanOrEqual((perRestart[0] ?? 0) + 2);
    expect(p.alice.state).toBe('completed');
    p.close();
    await until('fds back to the baseline', () => fds() <= baseline.fds, WAIT);
    await until('TCP handles back to the baseline', () => tcpHandles() <= baseline.tcp, WAIT);
    await until('timers back to the baseline', () => timers() <= baseline.timers, WAIT);
  });
});
