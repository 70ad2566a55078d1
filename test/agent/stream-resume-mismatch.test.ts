import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ResumableDuplex } from '../../src/connection/resumable-duplex.js';
import { DEFAULT_RESUME_WINDOW } from '../../src/connection/resume-ledger.js';
import type { IceAgent, IceAgentOptions, IceConnection } from '../../src/index.js';
import { connectViaDescriptions, loopbackAgent } from './helpers.js';
import { BothWays } from './stream-transfer.js';

/**
 * `icetcp+resume` advertised by both sides, but one side's copy of the peer's options lost on the way (an
 * application that passes `{ ufrag, pwd }` only, or drops the `a=ice-options` line): both sides must still run
 * the same stream mode. Before the checks carried the option, the side that saw it ran the protocol and the
 * other plain framing: writes stalled for good at the resume window (no ACK ever came) and the plain side's
 * reader got the protocol's messages as data.
 */

const WAIT = 30_000;
/** Beyond the resume window each way: a sender that never gets an ACK stalls before this. */
const BYTES = DEFAULT_RESUME_WINDOW + 4 * 1024 * 1024;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function agent(options: IceAgentOptions): IceAgent {
  return loopbackAgent(options, cleanups);
}

/** `b` gets `a`'s description without its `a=ice-options` line; `a` gets `b`'s whole. */
const optionsLostTowards = (a: IceAgent, b: IceAgent) =>
  connectViaDescriptions(a, b, (lines) => lines.filter((line) => !line.startsWith('a=ice-options')));

/** Ends both streams and resolves once each side read the peer's end; rejects after `ms`. */
function endBoth(sa: Duplex, sb: Duplex, ms: number): Promise<void> {
  const ended = (s: Duplex) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the stream did not end')), ms);
      s.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      s.resume();
    });
  const both = Promise.all([ended(sa), ended(sb)]);
  sa.end();
  sb.end();
  return both.then(() => undefined);
}

/** A transfer both ways past the window, then both ends: equal SHA-256, no stall, no protocol bytes as data. */
async function transferBothWays(ca: IceConnection, cb: IceConnection): Promise<[Duplex, Duplex]> {
  const sa = ca.stream();
  const sb = cb.stream();
  const transfer = new BothWays(sa, sb, BYTES);
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`stalled at ${transfer.received()} bytes`)), WAIT);
    cleanups.push(() => clearTimeout(timer));
  });
  const r = await Promise.race([transfer.done, timeout]);
  expect(r.readA).toBe(r.sentB);
  expect(r.readB).toBe(r.sentA);
  await endBoth(sa, sb, WAIT);
  return [sa, sb];
}

describe('the peer’s icetcp+resume lost on the way to one side', () => {
  it('controlled side without the option: both sides resume, a transfer past the window completes', async () => {
    const [ca, cb] = await optionsLostTowards(agent({ role: 'controlling' }), agent({ role: 'controlled' }));
    const streams = await transferBothWays(ca, cb);
    for (const s of streams) expect(s).toBeInstanceOf(ResumableDuplex);
  }, 90_000);

  it('controlling side without the option: the same', async () => {
    const [cb, ca] = await optionsLostTowards(agent({ role: 'controlled' }), agent({ role: 'controlling' }));
    const streams = await transferBothWays(ca, cb);
    for (const s of streams) expect(s).toBeInstanceOf(ResumableDuplex);
  }, 90_000);

  it('a peer with streamResume: false still gets plain framing on both sides, whatever was passed on', async () => {
    const [ca, cb] = await optionsLostTowards(
      agent({ role: 'controlling', streamResume: false }),
      agent({ role: 'controlled' }),
    );
    const streams = await transferBothWays(ca, cb);
    for (const s of streams) expect(s).not.toBeInstanceOf(ResumableDuplex);
  }, 90_000);
});
