import { execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceTcpError } from '../../src/index.js';
import { nextState, recordStates, selectedChecksReceived, startPinger } from '../support/consent-watch.js';
import { LinePeer, ROOT } from '../support/line-peer.js';
import { requireOrSkip } from '../support/require.js';

/**
 * Consent freshness (RFC 7675) against libnice 0.1.21, an independent implementation, with its own consent
 * freshness switched on (consent_nice_peer.py): both sides check each other on the selected pair. libnice sends
 * its consent check ("Keepalive STUN-CC REQ" in its NICE_DEBUG log) as the pair becomes ready, then every
 * 4-5 s (seen here), and gives up after 30 s without an answer: its component goes FAILED, which the fixture
 * reports. Those checks are its keepalives too: it sends no Binding indications on this pair.
 */

function libniceAvailable(): boolean {
  try {
    execFileSync(
      '/usr/bin/python3',
      ['-c', "import gi; gi.require_version('Nice','0.1'); from gi.repository import Nice"],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

const ok = requireOrSkip(
  'consent freshness with libnice',
  libniceAvailable() ? [] : ['libnice (apt-get install gir1.2-nice-0.1 python3-gi)'],
);

const INTERVAL = 300;
const TIMEOUT = 2000;
/** Longer than 3 timeouts and than libnice's own check interval (4-5 s), so it checks us at least once. */
const SESSION_MS = 8000;
/** Generous bounds for a loaded 2-core machine; the figures go to the console. */
const SLACK = 4000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Starts the libnice echo peer, which is resumed (if stopped) and killed at cleanup. */
function nicePeer(): LinePeer {
  const peer = new LinePeer(
    '/usr/bin/python3',
    [`${ROOT}test/interop/consent_nice_peer.py`, '--controlled', '--bind', '127.0.0.1'],
    // its agent's debug log (on stderr) is the only place libnice tells whether its consent checks were answered
    { env: { NICE_DEBUG: 'libnice', G_MESSAGES_DEBUG: 'libnice' } },
  );
  cleanups.push(() => {
    if (peer.child.exitCode !== null || peer.child.signalCode !== null) return;
    peer.child.kill('SIGCONT');
    peer.kill();
  });
  return peer;
}

/** libnice 0.1.21's debug lines for a consent check it sent, and for the answer it got. */
const NICE_CHECK = /Keepalive STUN-CC REQ to/g;
const NICE_ANSWER = /Keepalive for selected pair \S+ received/g;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Every JSON line the fixture prints from now on: its component states (`state`) and a final `error`. */
function niceEvents(peer: LinePeer): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  createInterface({ input: peer.child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  return events;
}

describe.skipIf(!ok)('consent freshness with libnice 0.1.21', () => {
  it('keeps consent both ways over 3x our timeout, then fails a frozen libnice with ERR_CONSENT_LOST', async () => {
    const agent = new IceAgent({
      role: 'controlling',
      addresses: ['127.0.0.1'],
      consentIntervalMs: INTERVAL,
      consentTimeoutMs: TIMEOUT,
    });
    cleanups.push(() => agent.close());
    const agentErrors: IceTcpError[] = [];
    agent.on('error', (e) => agentErrors.push(e));
    const nice = nicePeer();
    const niceSaid = niceEvents(nice);
    await agent.gather();
    agent.setRemoteDescription(await nice.localLines());
    nice.writeRemote(agent.localDescription());
    const conn = await agent.connect();
    await nice.waitFor('connected');
    const states = recordStates(agent);
    const pinger = startPinger(conn, 50);
    cleanups.push(() => pinger.stop());
    await pinger.receivedMore(32, SLACK);

    const checksAtStart = selectedChecksReceived(agent);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SESSION_MS));
    const stats = agent.getStats();
    const checksFromNice = selectedChecksReceived(agent) - checksAtStart;
    console.info(
      `libnice session ${Math.round(performance.now() - started)} ms: our consent checks ${stats.consentChecksSent} sent / ${stats.consentChecksAnswered} answered, libnice's checks ${count(nice.stderr, NICE_CHECK)} sent / ${count(nice.stderr, NICE_ANSWER)} answered (${checksFromNice} of them in the session), packets ${pinger.sent} sent / ${pinger.receivedBytes} bytes echoed`,
    );
    expect(agent.state).toBe('completed');
    expect(states.map((s) => s.state)).not.toContain('failed');
    // ~26 checks in 8 s at 300 ms ± 20 %; a stalled event loop sends fewer, never this few
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(8);
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(stats.consentChecksSent - 2);
    // libnice's own consent checks reached us and were answered (its 0.1.21 debug lines), its component stayed ready
    expect(checksFromNice).toBeGreaterThanOrEqual(1);
    const niceChecks = count(nice.stderr, NICE_CHECK);
    const niceAnswered = count(nice.stderr, NICE_ANSWER);
    expect(niceChecks).toBeGreaterThanOrEqual(2);
    expect(niceAnswered).toBeGreaterThanOrEqual(niceChecks - 1);
    const niceStates = niceSaid.filter((e) => e.event === 'state').map((e) => e.state);
    expect(niceStates.at(-1)).toBe('ready');
    expect(niceSaid.filter((e) => e.event === 'error')).toEqual([]);
    expect(pinger.receivedBytes).toBeGreaterThan(32 * 50);
    await pinger.receivedMore(32, SLACK);
    expect(nice.child.exitCode).toBeNull();

    const failedConn = new Promise<IceTcpError>((resolve) => conn.once('error', resolve));
    const frozenAt = performance.now();
    nice.child.kill('SIGSTOP');
    const disconnected = await nextState(agent, 'disconnected', 3 * INTERVAL + SLACK);
    const failed = await nextState(agent, 'failed', TIMEOUT + SLACK);
    console.info(
      `libnice frozen: disconnected after ${Math.round(disconnected.at - frozenAt)} ms, failed after ${Math.round(failed.at - frozenAt)} ms (interval ${INTERVAL}, timeout ${TIMEOUT})`,
    );
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'unanswered' });
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'expired' });
    expect(disconnected.at - frozenAt).toBeLessThan(3 * INTERVAL + SLACK);
    expect(failed.at - frozenAt).toBeLessThan(TIMEOUT + SLACK);
    await expect(failedConn).resolves.toMatchObject({ code: 'ERR_CONSENT_LOST' });
    expect(agentErrors.map((e) => e.code)).toContain('ERR_CONSENT_LOST');
  });
});
