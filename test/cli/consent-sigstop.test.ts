import { afterEach, describe, expect, it } from 'vitest';
import { CliPeers, exchangeLines, type LinePeer } from '../support/line-peer.js';

/**
 * Two `ice-tcp connect` processes on loopback; one is frozen with SIGSTOP mid-session, so its socket stays open
 * and TCP keeps acknowledging nothing new: only consent freshness can tell. The other must exit non-zero with
 * ERR_CONSENT_LOST within the consent timeout (plus a generous slack for a loaded machine).
 */

const INTERVAL = 200;
const TIMEOUT = 1500;
const SLACK = 6000;
const consent = ['--consent-interval', String(INTERVAL), '--consent-timeout', String(TIMEOUT)];
const HUGE = String(64 * 1024 * 1024 * 1024);

const peers = new CliPeers();
const frozen: LinePeer[] = [];
afterEach(() => {
  // SIGKILL ends a stopped process too; SIGCONT first so that nothing is left stopped if the kill is skipped
  for (const p of frozen.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGCONT');
  peers.killAll();
});

/** Starts a connected pair: `sender` sends forever, `receiver` expects as much. */
async function pair(): Promise<{ sender: LinePeer; receiver: LinePeer }> {
  const sender = peers.spawn([
    'connect',
    '--controlling',
    '--bind',
    '127.0.0.1',
    '--send-bytes',
    HUGE,
    ...consent,
  ]);
  const receiver = peers.spawn([
    'connect',
    '--controlled',
    '--bind',
    '127.0.0.1',
    '--expect-bytes',
    HUGE,
    ...consent,
  ]);
  await exchangeLines(sender, receiver);
  await Promise.all([sender.waitFor('connected'), receiver.waitFor('connected')]);
  return { sender, receiver };
}

/** Freezes `victim` and resolves with what `survivor` reported and how long it took to exit. */
async function freeze(victim: LinePeer, survivor: LinePeer) {
  frozen.push(victim);
  const frozenAt = performance.now();
  victim.child.kill('SIGSTOP');
  const error = await survivor.waitFor('error', TIMEOUT + SLACK);
  const code = await survivor.exited();
  return { error, code, ms: Math.round(performance.now() - frozenAt) };
}

describe('ice-tcp connect: a peer frozen with SIGSTOP', () => {
  it('a sender whose receiver freezes exits 1 with ERR_CONSENT_LOST', async () => {
    const { sender, receiver } = await pair();
    // let the transfer fill the buffers on the way: the consent checks then queue behind the data
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { error, code, ms } = await freeze(receiver, sender);
    console.info(`frozen receiver: the sender exited ${code} with ${String(error.code)} after ${ms} ms`);
    expect(error.code).toBe('ERR_CONSENT_LOST');
    expect(code).toBe(1);
    expect(ms).toBeLessThan(TIMEOUT + SLACK);
  });

  it('an idle receiver whose sender freezes exits 1 with ERR_CONSENT_LOST', async () => {
    const { sender, receiver } = await pair();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { error, code, ms } = await freeze(sender, receiver);
    console.info(`frozen sender: the receiver exited ${code} with ${String(error.code)} after ${ms} ms`);
    expect(error.code).toBe('ERR_CONSENT_LOST');
    expect(code).toBe(1);
    expect(ms).toBeLessThan(TIMEOUT + SLACK);
  });
});
