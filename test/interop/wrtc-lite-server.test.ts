import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceConnection, type IceTcpError, IceTcpMux } from '../../src/index.js';
import { recordStates, type StateChange, selectedChecksReceived } from '../support/consent-watch.js';
import { requireOrSkip } from '../support/require.js';
import {
  iceTcpSdp,
  parseWrtcSdp,
  startWrtcProcess,
  type WrtcMessage,
  type WrtcProcess,
  wrtcInstalled,
} from '../support/wrtc-peers.js';

/**
 * An ice-tcp lite server on one mux port with 50 libwebrtc peer connections at once (two child processes of
 * 25), loopback only: every libwebrtc offer gets a lite agent on the mux and an answer with `a=ice-lite`; all
 * 50 reach ICE `connected` over TCP, and consent holds for longer than the lite agents' consent timeout
 * (libwebrtc's checks on the selected pair keep a lite agent's consent; the lite agents send none).
 */

const ok = requireOrSkip(
  'ice-lite server with 50 libwebrtc peers',
  wrtcInstalled ? [] : ['@roamhq/wrtc (npm ci)'],
);
const PROCESSES = 2;
const PER_PROCESS = 25;
/** The lite agents' consent timeout: libwebrtc checks a stable selected pair every ~2.5 s. */
const CONSENT_TIMEOUT = 6000;
/** Held connected for longer than one consent timeout. */
const HOLD_MS = CONSENT_TIMEOUT + 2000;
const WAIT = 25_000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Session {
  id: number;
  peer: WrtcProcess;
  agent: IceAgent;
  connection: Promise<IceConnection>;
}

const wrtcConnected = (id: number) => (m: WrtcMessage) =>
  m.id === id && m.event === 'state' && (m.state === 'connected' || m.state === 'completed');

/** libwebrtc offered on connection `id`: a lite agent on the mux answers it. */
async function answerOffer(
  mux: IceTcpMux,
  peer: WrtcProcess,
  id: number,
  errors: IceTcpError[],
): Promise<Session> {
  const offer = parseWrtcSdp(
    String((await peer.next((m) => m.id === id && m.event === 'offer', WAIT, 0)).sdp),
  );
  const agent = new IceAgent({
    addresses: ['127.0.0.1'],
    lite: true,
    mux,
    consentIntervalMs: 500,
    consentTimeoutMs: CONSENT_TIMEOUT,
    connectTimeoutMs: WAIT,
  });
  cleanups.push(() => agent.close());
  agent.on('error', (e) => errors.push(e));
  await agent.gather();
  agent.setRemoteParameters({ ufrag: offer.ufrag, pwd: offer.pwd });
  // libwebrtc's passive candidates do not pair with ours; they tell the pool whose connections to expect
  for (const line of offer.candidates) agent.addRemoteCandidate(line);
  agent.addRemoteCandidate(null);
  const connection = agent.connect();
  peer.send({ id, answerSdp: iceTcpSdp(agent, 'answer') });
  return { id, peer, agent, connection };
}

async function statsOf(s: Session): Promise<WrtcMessage> {
  const reply = s.peer.next((m) => m.id === s.id && m.event === 'stats', WAIT);
  s.peer.send({ id: s.id, stats: true });
  return reply;
}

describe.skipIf(!ok)('ice-lite server on a mux port with libwebrtc peers', () => {
  it(`${PROCESSES * PER_PROCESS} libwebrtc peer connections at once: all connected over TCP, consent kept`, async () => {
    const started = performance.now();
    const mux = new IceTcpMux({ host: '127.0.0.1', port: 0 });
    await mux.listen();
    cleanups.push(() => mux.close());
    const { port } = mux.address();
    const errors: IceTcpError[] = [];
    const peers = Array.from({ length: PROCESSES }, () => {
      const peer = startWrtcProcess();
      cleanups.push(() => peer.close());
      return peer;
    });
    const ids = peers.flatMap((peer, p) =>
      Array.from({ length: PER_PROCESS }, (_, i) => ({ peer, id: p * PER_PROCESS + i })),
    );
    for (const { peer, id } of ids) peer.send({ id, offer: true });
    const sessions = await Promise.all(ids.map(({ peer, id }) => answerOffer(mux, peer, id, errors)));
    const answeredAt = performance.now();
    const connections = await Promise.all(sessions.map((s) => s.connection));
    await Promise.all(sessions.map((s) => s.peer.next(wrtcConnected(s.id), WAIT, 0)));
    const connectedAt = performance.now();

    for (const c of connections) expect(c.localCandidate).toMatchObject({ tcpType: 'passive', port });
    const stats = await Promise.all(sessions.map(statsOf));
    expect(stats.map((s) => s.protocol)).toEqual(sessions.map(() => 'tcp'));

    // consent: hold longer than one consent timeout; libwebrtc keeps checking, every lite agent stays completed
    const recorders: StateChange[][] = sessions.map((s) => recordStates(s.agent));
    const checksBefore = sessions.map((s) => selectedChecksReceived(s.agent));
    const seenFrom = peers.map((p) => p.messages.length);
    await new Promise((r) => setTimeout(r, HOLD_MS));
    const checksDuring = sessions.map((s, i) => selectedChecksReceived(s.agent) - (checksBefore[i] ?? 0));
    const wrtcChanges = peers.flatMap((p, i) =>
      p.messages
        .slice(seenFrom[i])
        .filter((m) => m.event === 'state' && m.state !== 'connected' && m.state !== 'completed'),
    );
    console.info(
      `lite server, ${sessions.length} libwebrtc peers on mux port ${port}: all offers answered ${Math.round(answeredAt - started)} ms after start (libwebrtc's gathering), all connected ${Math.round(connectedAt - answeredAt)} ms later; over ${HOLD_MS} ms held (consent timeout ${CONSENT_TIMEOUT}), libwebrtc's checks per session min ${Math.min(...checksDuring)} max ${Math.max(...checksDuring)}; errors ${JSON.stringify(errors.map((e) => e.code))}`,
    );
    expect(sessions.map((s) => s.agent.state)).toEqual(sessions.map(() => 'completed'));
    expect(recorders.flat().map((c) => c.state)).toEqual([]);
    expect(wrtcChanges).toEqual([]);
    expect(Math.min(...checksDuring)).toBeGreaterThanOrEqual(1);
    expect(sessions.map((s) => s.agent.getStats().consentChecksSent)).toEqual(sessions.map(() => 0));
    // and libwebrtc got an answer to each of its checks (one may still be in flight)
    const after = await Promise.all(sessions.map(statsOf));
    const unanswered = after.map(
      (m) => Number(m.requestsSent) + Number(m.consentRequestsSent) - Number(m.responsesReceived),
    );
    expect(Math.max(...unanswered)).toBeLessThanOrEqual(1);
  }, 60_000);
});
