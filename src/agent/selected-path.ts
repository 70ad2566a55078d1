import type { IceRole } from '../candidate/types.js';
import type { CandidatePair } from '../checklist/index.js';
import { IceConnection } from '../connection/ice-connection.js';
import type { ResumeKeys } from '../connection/resume-mode.js';
import type { IceTcpError } from '../errors.js';
import { shortTermKey } from '../stun/index.js';
import { checkPriority, selectedPairOf } from './candidate-view.js';
import { buildCheckRequest, buildKeepalive } from './check-messages.js';
import { ConsentSession } from './consent-session.js';
import type { IceParameters } from './credentials.js';
import type { SelectedPair } from './events.js';
import type { Link } from './link.js';

/**
 * The nominated pair's link becomes the application's connection (its held frames first); `resumeKeys` when
 * both sides negotiated the stream-resume protocol.
 */
export function openConnection(pair: CandidatePair, link: Link, resumeKeys?: ResumeKeys): IceConnection {
  const { local, remote } = selectedPairOf(pair);
  const connection = new IceConnection(
    link.connection,
    local,
    remote,
    (frame) => link.handleControlFrame(frame),
    link.takeHeldFrames(),
    resumeKeys,
  );
  link.connection.resume();
  return connection;
}

/**
 * A restart's pair is nominated: the connection moves to its link; `onOldPathDone` once the old path may go.
 * False when the connection was already ending and would not move.
 */
export function moveConnection(
  connection: IceConnection,
  selected: SelectedPair,
  link: Link,
  onOldPathDone: () => void,
  resumeKeys?: ResumeKeys,
): boolean {
  const moved = connection.moveTo(
    link.connection,
    selected,
    (frame) => link.handleControlFrame(frame),
    link.takeHeldFrames(),
    onOldPathDone,
    resumeKeys,
  );
  link.connection.resume();
  return moved;
}

/** What consent of a selected pair needs from the agent; the credentials are the pair's generation's. */
export interface ConsentStart {
  pair: CandidatePair;
  link: Link;
  params: IceParameters;
  remote: IceParameters | undefined;
  /** The role in force when a check is built (a role conflict may still change it). */
  role(): IceRole;
  tieBreaker: bigint;
  intervalMs: number;
  timeoutMs: number;
  /** ice-lite: consent kept by the peer's checks, none of ours. */
  lite?: boolean;
  /** When the pair runs on our TURN allocation: why it was lost, once it was. */
  relayLost?: () => IceTcpError | undefined;
  now(): number;
  wake(): void;
}

/** Starts consent freshness (RFC 7675) on the selected pair's link, its nominating check the first consent. */
export function startConsentSession(input: ConsentStart): ConsentSession {
  const { pair, params, remote } = input;
  const remoteKey = remote ? shortTermKey(remote.pwd) : undefined;
  const localKey = shortTermKey(params.pwd);
  const session = new ConsentSession({
    link: input.link,
    intervalMs: input.intervalMs,
    timeoutMs: input.timeoutMs,
    rttMs: pair.rttMs,
    // RFC 7675 §5.1: a consent check is an ICE check of the pair, without USE-CANDIDATE
    buildCheck: (transactionId) =>
      buildCheckRequest({
        localUfrag: params.ufrag,
        remoteUfrag: remote?.ufrag ?? '',
        remotePwd: remote?.pwd ?? '',
        priority: checkPriority(pair),
        role: input.role(),
        tieBreaker: input.tieBreaker,
        useCandidate: false,
        transactionId,
      }).bytes,
    authentic: (response) =>
      remoteKey !== undefined && response.hasIntegrity() && response.verifyIntegrity(remoteKey),
    keepalive: () => buildKeepalive(localKey),
    peerDriven: input.lite,
    ...(input.relayLost ? { relayLost: input.relayLost } : {}),
    now: input.now,
    wake: input.wake,
  });
  session.start(input.now());
  return session;
}
