import { describe, expect, it } from 'vitest';
import type { Link } from '../../src/agent/link.js';
import { RELAY_REDIALS, RelayRedials } from '../../src/agent/relay-dial.js';
import type { CandidatePair } from '../../src/checklist/index.js';

/**
 * Which unanswered checks the pool makes again (agent/relay-dial.ts): only a connection to the peer's relayed
 * passive candidate that closed before anything authenticated came on it (the peer's TURN server turning us away
 * until the peer permits us), a bounded number of times, and never once the pair's signal aborted.
 */

const pairTo = (type: string, tcpType: string) =>
  ({ id: `L1|${type}-${tcpType}`, remote: { type, tcpType } }) as unknown as CandidatePair;
const linkOf = (closed: boolean, authenticated: boolean) => ({ closed, authenticated }) as unknown as Link;

describe('RelayRedials', () => {
  it('makes a check to a relayed passive candidate again after its connection closed unanswered', async () => {
    const redials = new RelayRedials();
    const link = linkOf(true, false);
    let again = 0;
    const done = new Promise<void>((resolve) => {
      expect(
        redials.retry(pairTo('relay', 'passive'), link, new AbortController().signal, () => {
          again += 1;
          resolve();
        }),
      ).toBe(true);
    });
    expect(redials.retried(link)).toBe(true);
    await done;
    expect(again).toBe(1);
  });

  it('leaves every other unanswered check failed', () => {
    const redials = new RelayRedials();
    const signal = new AbortController().signal;
    const never = () => expect.unreachable();
    expect(redials.retry(pairTo('host', 'passive'), linkOf(true, false), signal, never)).toBe(false);
    expect(redials.retry(pairTo('relay', 'active'), linkOf(true, false), signal, never)).toBe(false);
    // timed out on an open connection, or closed after the peer had answered on it
    expect(redials.retry(pairTo('relay', 'passive'), linkOf(false, false), signal, never)).toBe(false);
    expect(redials.retry(pairTo('relay', 'passive'), linkOf(true, true), signal, never)).toBe(false);
    const aborted = new AbortController();
    aborted.abort();
    expect(redials.retry(pairTo('relay', 'passive'), linkOf(true, false), aborted.signal, never)).toBe(false);
  });

  it(`stops after ${RELAY_REDIALS} attempts per pair, and an abort cancels the pending one`, async () => {
    const redials = new RelayRedials();
    const pair = pairTo('relay', 'passive');
    const controller = new AbortController();
    let again = 0;
    for (let i = 0; i < RELAY_REDIALS; i++) {
      expect(redials.retry(pair, linkOf(true, false), controller.signal, () => again++)).toBe(true);
    }
    expect(redials.retry(pair, linkOf(true, false), controller.signal, () => again++)).toBe(false);
    controller.abort();
    await new Promise((r) => setTimeout(r, 300));
    expect(again).toBe(0);
  });
});
