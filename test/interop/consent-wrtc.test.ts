import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceTcpError } from '../../src/index.js';
import { nextState, recordStates, startPinger } from '../support/consent-watch.js';
import { requireOrSkip } from '../support/require.js';

/**
 * Consent freshness (RFC 7675) against libwebrtc (Chrome's ICE, `@roamhq/wrtc`) in a process of its own
 * (consent_wrtc_peer.mjs), on loopback only. libwebrtc is the offerer (controlling) and gets our TCP candidates
 * with a fake DTLS fingerprint: its ICE connects, its DTLS never does, which its ICE layer does not care about.
 * libwebrtc sends its own checks on the selected pair (every ~2 s here, counted as consent requests in its
 * stats) and takes a connection whose checks go unanswered as unwritable: its ICE then leaves `connected`.
 */

const wrtcInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@roamhq/wrtc');
    return true;
  } catch {
    return false;
  }
})();
const ok = requireOrSkip('consent freshness with libwebrtc', wrtcInstalled ? [] : ['@roamhq/wrtc (npm ci)']);

const PEER = fileURLToPath(new URL('./consent_wrtc_peer.mjs', import.meta.url));
const INTERVAL = 300;
const TIMEOUT = 2000;
/** Over 3x our timeout and over 2x libwebrtc's own check interval; the whole test stays under ~40 s. */
const SESSION_MS = 12_000;
const SLACK = 4000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

type Message = Record<string, unknown>;
/** The selected pair's STUN counters the fixture reports (RTCIceCandidatePairStats). */
type WrtcCounter = 'requestsSent' | 'consentRequestsSent' | 'responsesReceived' | 'responsesSent';

/** The fixture's process and its JSON lines in order. */
interface WrtcPeer {
  child: ChildProcess;
  messages: Message[];
  /** The first line from index `from` on (default: the next one) that `match`es. */
  next(match: (m: Message) => boolean, from?: number): Promise<Message>;
}

function startPeer(): WrtcPeer {
  const child = spawn(process.execPath, [PEER], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    messages.push(JSON.parse(line) as Message);
    for (const w of waiters) w();
  });
  const next = (match: (m: Message) => boolean, from = messages.length): Promise<Message> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.slice(from).find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`libwebrtc peer: no such line; seen ${JSON.stringify(messages.slice(from))}`));
      }, SLACK * 3);
      waiters.add(check);
      check();
    });
  return { child, messages, next };
}

const event = (name: string) => (m: Message) => m.event === name;

/** libwebrtc's ufrag, pwd and its passive TCP candidates on 127.0.0.1 (the test talks to loopback only). */
function parseOffer(sdp: string): { ufrag: string; pwd: string; candidates: string[] } {
  const lines = sdp.split(/\r?\n/);
  const value = (key: string) => lines.find((l) => l.startsWith(key))?.slice(key.length) ?? '';
  const candidates = lines
    .filter((l) => l.startsWith('a=candidate:') && / tcp .* 127\.0\.0\.1 .*tcptype passive/.test(l))
    .map((l) => l.slice(2));
  return { ufrag: value('a=ice-ufrag:'), pwd: value('a=ice-pwd:'), candidates };
}

/** Our answer: a data-channel section with our credentials, our passive candidates and a fake fingerprint. */
function answerSdp(agent: IceAgent): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0')).join(':');
  const candidates = agent
    .localDescription()
    .filter((l) => l.startsWith('a=candidate:') && l.includes(' tcptype passive'));
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${agent.localParameters.ufrag}`,
    `a=ice-pwd:${agent.localParameters.pwd}`,
    `a=fingerprint:sha-256 ${fingerprint.toUpperCase()}`,
    // libwebrtc the DTLS client: its ClientHello retransmissions are the data it sends us
    'a=setup:passive',
    'a=mid:0',
    'a=sctp-port:5000',
    ...candidates,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

describe.skipIf(!ok)('consent freshness with libwebrtc (@roamhq/wrtc)', () => {
  it('both keep consent over 12 s; a frozen libwebrtc: disconnected, then failed with ERR_CONSENT_LOST', async () => {
    const peer = startPeer();
    const offer = parseOffer(String((await peer.next(event('offer'), 0)).sdp));
    expect(offer.candidates.length).toBeGreaterThanOrEqual(1);

    const agent = new IceAgent({
      role: 'controlled',
      addresses: ['127.0.0.1'],
      consentIntervalMs: INTERVAL,
      consentTimeoutMs: TIMEOUT,
    });
    cleanups.push(() => agent.close());
    const agentErrors: IceTcpError[] = [];
    agent.on('error', (e) => agentErrors.push(e));
    await agent.gather();
    agent.setRemoteParameters({ ufrag: offer.ufrag, pwd: offer.pwd });
    for (const line of offer.candidates) agent.addRemoteCandidate(line);
    agent.addRemoteCandidate(null);
    peer.child.stdin!.write(`${JSON.stringify({ answer: answerSdp(agent) })}\n`);
    const conn = await agent.connect();
    const states = recordStates(agent);
    // libwebrtc drops our frames (neither STUN, DTLS nor RTP) after reading them; it sends its DTLS handshake
    const pinger = startPinger(conn, 50);
    cleanups.push(() => pinger.stop());
    await peer.next((m) => m.event === 'state' && (m.state === 'connected' || m.state === 'completed'), 0);

    const statsNow = async () => {
      const reply = peer.next(event('stats'));
      peer.child.stdin!.write('{"stats":true}\n');
      const m = (await reply) as Record<WrtcCounter, number>;
      // libwebrtc counts its checks after nomination as consent requests, not as requests
      return { ...m, checksSent: m.requestsSent + m.consentRequestsSent };
    };
    const before = await statsNow();
    const seenFrom = peer.messages.length;
    await new Promise((resolve) => setTimeout(resolve, SESSION_MS));
    const after = await statsNow();
    const stats = agent.getStats();
    const wrtcStates = peer.messages.slice(seenFrom).filter((m) => m.event === 'state');
    const theirChecks = after.checksSent - before.checksSent;
    const theirAnswers = after.responsesReceived - before.responsesReceived;
    console.info(
      `libwebrtc session ${SESSION_MS} ms: our consent checks ${stats.consentChecksSent} sent / ${stats.consentChecksAnswered} answered (it answered ${after.responsesSent - before.responsesSent}); its checks ${theirChecks} sent / ${theirAnswers} answered by us; its state changes ${JSON.stringify(wrtcStates)}; ${pinger.receivedBytes} bytes from it`,
    );
    expect(agent.state).toBe('completed');
    expect(states.map((s) => s.state)).not.toContain('failed');
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(10);
    expect(stats.consentChecksAnswered).toBeGreaterThanOrEqual(stats.consentChecksSent - 2);
    // libwebrtc's ICE never left connected/completed, and its own checks were answered
    expect(wrtcStates.map((m) => m.state).filter((s) => s !== 'connected' && s !== 'completed')).toEqual([]);
    expect(theirChecks).toBeGreaterThanOrEqual(2);
    expect(theirAnswers).toBeGreaterThanOrEqual(theirChecks - 1);
    // and bytes went both ways: ours to it, its DTLS ClientHello (retransmitted) to us
    expect(pinger.receivedBytes).toBeGreaterThan(0);

    const failedConn = new Promise<IceTcpError>((resolve) => conn.once('error', resolve));
    const frozenAt = performance.now();
    peer.child.kill('SIGSTOP');
    const disconnected = await nextState(agent, 'disconnected', 3 * INTERVAL + SLACK);
    const failed = await nextState(agent, 'failed', TIMEOUT + SLACK);
    console.info(
      `libwebrtc frozen: disconnected after ${Math.round(disconnected.at - frozenAt)} ms, failed after ${Math.round(failed.at - frozenAt)} ms (interval ${INTERVAL}, timeout ${TIMEOUT})`,
    );
    expect(disconnected.reason).toMatchObject({ code: 'ERR_CONNECTION_LOST', reason: 'unanswered' });
    expect(failed.reason).toMatchObject({ code: 'ERR_CONSENT_LOST', reason: 'expired' });
    expect(failed.at - frozenAt).toBeLessThan(TIMEOUT + SLACK);
    await expect(failedConn).resolves.toMatchObject({ code: 'ERR_CONSENT_LOST' });
    expect(agentErrors.map((e) => e.code)).toContain('ERR_CONSENT_LOST');
  }, 60_000);
});
