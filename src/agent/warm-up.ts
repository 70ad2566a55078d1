import createDebug from 'debug';
import { makeLocalCandidate } from '../candidate/factory.js';
import { formatCandidate, parseCandidate } from '../candidate/index.js';
import type { LocalCandidate, TcpType } from '../candidate/types.js';
import { Checklist, type IceRole } from '../checklist/index.js';
import { encodeFrame, isStunFrame, Rfc4571Deframer } from '../framing/index.js';
import { StunMessage, shortTermKey } from '../stun/index.js';
import {
  authenticateCheck,
  buildCheckRequest,
  buildCheckSuccess,
  interpretCheckResponse,
  peerIceOptions,
} from './check-messages.js';

const log = createDebug('ice-tcp:agent');

/** Once per process: what it warms stays compiled for every later agent. */
let warmed = false;

const PWD = 'warm-up-password-0123456789';
const SELF = '192.0.2.1';
const PEER = '192.0.2.2';

function candidate(id: string, tcpType: TcpType, address: string, port: number): LocalCandidate {
  return makeLocalCandidate({
    id,
    type: 'host',
    tcpType,
    address,
    port: tcpType === 'active' ? 9 : port,
    baseAddress: address,
    basePort: port,
    otherPreference: 8191,
  });
}

/** The peer's check as our pool reads it: framed, cut, authenticated, answered; the answer read back. */
function checkRoundTrip(role: IceRole, useCandidate: boolean): void {
  const key = shortTermKey(PWD);
  const { bytes } = buildCheckRequest({
    localUfrag: 'wpeer',
    remoteUfrag: 'wself',
    remotePwd: PWD,
    priority: 1853824767,
    role,
    tieBreaker: 1n,
    useCandidate,
    iceOptions: ['icetcp+resume'],
  });
  const frames: Buffer[] = [];
  new Rfc4571Deframer().pushTo(encodeFrame(bytes), {
    frame: (f) => frames.push(f),
    bytes: () => undefined,
    streams: () => false,
  });
  for (const frame of frames) {
    if (!isStunFrame(frame)) continue;
    const request = StunMessage.decode(frame);
    authenticateCheck(request, 'wself', key);
    peerIceOptions(request);
    const answer = buildCheckSuccess(request, { family: 4, address: PEER, port: 40000 }, key, [
      'icetcp+resume',
    ]);
    interpretCheckResponse(StunMessage.decode(answer), key);
  }
}

/** One check round of a role through a checklist of its own, to nomination; returns the checklist's state. */
function checklistRound(role: IceRole): string {
  const list = new Checklist({
    role,
    tieBreaker: 1n,
    pacingMs: 5,
    checkTimeoutMs: 2500,
    maxPairs: 100,
    nominationWaitMs: 800,
    remoteEndOfCandidatesTimeoutMs: 1000,
  });
  const locals = [candidate('w1', 'active', SELF, 40000), candidate('w2', 'passive', SELF, 40001)];
  for (const c of locals) list.addLocalCandidate(c, 0);
  list.setLocalGatheringComplete(0);
  list.start(0);
  for (const c of [candidate('r1', 'active', PEER, 50000), candidate('r2', 'passive', PEER, 50001)])
    list.addRemoteCandidate(parseCandidate(formatCandidate(c)), 0);
  list.setRemoteEndOfCandidates(0);
  list.onIncomingCheck(
    {
      localCandidateId: 'w2',
      remoteAddress: PEER,
      remotePort: 50002,
      remoteTcpType: 'active',
      priority: 1,
      useCandidate: role === 'controlled',
      ...(role === 'controlling' ? { iceControlled: 2n } : { iceControlling: 2n }),
    },
    1,
  );
  for (let now = 1; now < 40 && list.state === 'running'; now += 5) {
    for (const action of list.poll(now)) {
      if (action.type === 'check') list.onCheckSuccess(action.pairId, now);
    }
    list.nextWakeup();
  }
  list.pairs();
  return list.state;
}

/** The first AbortController and AbortSignal.any (each pair's dial and transaction make them). */
function abortSignals(): string {
  const controller = new AbortController();
  AbortSignal.any([controller.signal, new AbortController().signal]).addEventListener('abort', () => {});
  controller.abort(new Error('warm-up'));
  return 'aborted';
}

/** One step per event-loop turn: socket events (a STUN answer, the peer's lines) wait for one step at most. */
const STEPS: ReadonlyArray<() => string | undefined> = [
  () => {
    checkRoundTrip('controlling', false);
    return undefined;
  },
  () => {
    checkRoundTrip('controlled', true);
    return undefined;
  },
  () => checklistRound('controlling'),
  () => checklistRound('controlled'),
  abortSignals,
];

/**
 * Runs the pure code of a connectivity check once in this process, while the agent waits for the peer: a
 * fresh process (the CLI) otherwise compiles and first runs it on the path to connected, between the peer's
 * candidates and the nomination (the first HMAC, lazily compiled functions, the first AbortController).
 * One step per event-loop turn, and none once `stop()` says the peer's candidates are here (the real path
 * warms itself then). No sockets and no state shared with any agent; a failure only costs the warm-up.
 * Resolves with what the steps ended in (`completed` for each role's checklist round when the whole path
 * ran), or undefined when the process was warmed up already.
 */
export async function warmUpCheckPath(stop: () => boolean = () => false): Promise<string[] | undefined> {
  if (warmed) return undefined;
  warmed = true;
  const started = performance.now();
  const results: string[] = [];
  for (const step of STEPS) {
    await new Promise((resolve) => setImmediate(resolve));
    if (stop()) break;
    try {
      const result = step();
      if (result !== undefined) results.push(result);
    } catch (err) {
      log('warm-up failed: %s', (err as Error).message);
      break;
    }
  }
  log('check path warm-up: %s in %s ms', results.join(', '), (performance.now() - started).toFixed(1));
  return results;
}
