import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/index.js';
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
 * libwebrtc (Chrome's ICE, `@roamhq/wrtc`, in a child process) and a full ice-tcp agent, ICE layer only, on
 * loopback: libwebrtc offers and ice-tcp answers, then the reverse. Both reach ICE `connected` over TCP (our SDP
 * has TCP candidates only; libwebrtc's selected pair says `tcp`). DTLS never completes (fake fingerprint).
 */

const ok = requireOrSkip('ICE with libwebrtc', wrtcInstalled ? [] : ['@roamhq/wrtc (npm ci)']);
const WAIT = 20_000;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const connectedState = (id: number) => (m: WrtcMessage) =>
  m.id === id && m.event === 'state' && (m.state === 'connected' || m.state === 'completed');

/** The fixture's stats of connection `id`: its selected pair must be over TCP, checked both ways. */
async function selectedPair(peer: WrtcProcess, id: number): Promise<WrtcMessage> {
  const reply = peer.next((m) => m.id === id && m.event === 'stats', WAIT);
  peer.send({ id, stats: true });
  return reply;
}

function start(): WrtcProcess {
  const peer = startWrtcProcess();
  cleanups.push(() => peer.close());
  return peer;
}

describe.skipIf(!ok)('ICE-TCP with libwebrtc (@roamhq/wrtc)', () => {
  it('libwebrtc offers, ice-tcp answers: both connected over TCP', async () => {
    const peer = start();
    peer.send({ id: 1, offer: true });
    const offer = parseWrtcSdp(String((await peer.next((m) => m.event === 'offer', WAIT, 0)).sdp));
    expect(offer.candidates.length).toBeGreaterThanOrEqual(1);
    const agent = new IceAgent({ addresses: ['127.0.0.1'] });
    cleanups.push(() => agent.close());
    agent.on('error', () => {});
    await agent.gather();
    agent.setRemoteParameters({ ufrag: offer.ufrag, pwd: offer.pwd });
    for (const line of offer.candidates) agent.addRemoteCandidate(line);
    agent.addRemoteCandidate(null);
    peer.send({ id: 1, answerSdp: iceTcpSdp(agent, 'answer') });
    const conn = await agent.connect();
    await peer.next(connectedState(1), WAIT, 0);
    expect(agent.role).toBe('controlled');
    expect(conn.remoteCandidate.transport).toBe('TCP');
    expect(await selectedPair(peer, 1)).toMatchObject({ protocol: 'tcp' });
  }, 60_000);

  it('ice-tcp offers, libwebrtc answers: ice-tcp controls and nominates, both connected over TCP', async () => {
    const peer = start();
    const agent = new IceAgent({ addresses: ['127.0.0.1'] });
    cleanups.push(() => agent.close());
    agent.on('error', () => {});
    await agent.gather();
    peer.send({ id: 2, offerSdp: iceTcpSdp(agent, 'offer') });
    const answer = parseWrtcSdp(String((await peer.next((m) => m.event === 'answer', WAIT, 0)).sdp));
    agent.setRemoteParameters({ ufrag: answer.ufrag, pwd: answer.pwd });
    for (const line of answer.candidates) agent.addRemoteCandidate(line);
    agent.addRemoteCandidate(null);
    const conn = await agent.connect();
    await peer.next(connectedState(2), WAIT, 0);
    expect(agent.role).toBe('controlling');
    expect(agent.getStats().pairs.find((p) => p.selected)).toMatchObject({ nominated: true });
    expect(conn.localCandidate.transport).toBe('TCP');
    expect(await selectedPair(peer, 2)).toMatchObject({ protocol: 'tcp' });
  }, 60_000);
});
