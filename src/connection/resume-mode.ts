import type { IceTcpError } from '../errors.js';
import type { IntegrityKey } from '../stun/index.js';
import type { FramedConnection } from '../transport/index.js';
import { FramedResumePath } from './framed-resume-path.js';
import { ResumableDuplex } from './resumable-duplex.js';

/** After `close()`, how long a peer may stay silent without ending its stream before the path is reset. */
const CLOSE_GRACE_MS = 5000;

/** The keys of the ICE generation a path belongs to: ours signs our control messages, the peer's checks its. */
export interface ResumeKeys {
  localKey: IntegrityKey;
  remoteKey: IntegrityKey;
}

/** One selected pair's connection as the stream gets it. */
export interface ResumeLeg {
  framed: FramedConnection;
  keys: ResumeKeys;
  /** Frames the link held before the hand-off (the peer's RESUME may be among them), in order. */
  earlyFrames: readonly Buffer[];
  /** ICE's own STUN on this connection (consent checks, keepalives): the agent answers it, never data. */
  isIceFrame(frame: Buffer): boolean;
}

/**
 * The stream mode of an `IceConnection` when both sides negotiated `icetcp+resume`: one {@link ResumableDuplex}
 * from the first selected pair on, moved to each new pair an ICE restart nominates. A path that dies is not the
 * end of the stream (the next restart's path carries on from the peer's offset); the stream ends in-band, and
 * fails only when the agent gives up on the connection ({@link fail}) or the peer breaks the protocol.
 */
export class ResumeStreamMode {
  readonly duplex: ResumableDuplex;
  /** The connection of the path in use (the newest one). */
  private framed: FramedConnection;
  private settled = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly refreshGrace = () => this.graceTimer?.refresh();

  /** `onDone` once the stream is over (closed, destroyed), with the error that destroyed it, if any. */
  constructor(leg: ResumeLeg, onDone: (error: IceTcpError | undefined) => void) {
    this.framed = leg.framed;
    // a path already lost before stream() was called: the stream starts detached, the next path resumes it
    this.duplex = new ResumableDuplex(leg.framed.closed ? undefined : pathOf(leg));
    this.duplex.core.on('settled', () => {
      this.settled = true;
      // both streams ended and every byte is acknowledged: the TCP connection has nothing left to carry
      this.framed.close();
    });
    this.duplex.once('close', () => {
      this.clearGrace();
      onDone((this.duplex.errored as IceTcpError | null) ?? undefined);
    });
  }

  /** True until the stream is over (settled or destroyed): a new path can still carry it. */
  get alive(): boolean {
    return !this.settled && !this.duplex.destroyed;
  }

  /** A restart nominated a new pair: the stream resumes on it (README, "Seamless path switch"). */
  switchTo(leg: ResumeLeg): void {
    this.moveGrace(leg.framed);
    this.framed = leg.framed;
    this.duplex.core.switchTo(pathOf(leg));
  }

  /**
   * `IceConnection.close()`: ends our stream in-band after what was written; the connection closes once the peer
   * ended its own and everything is acknowledged, or is reset when the peer stays silent for 5 s meanwhile.
   */
  close(): void {
    if (!this.alive || this.graceTimer) return;
    this.duplex.end();
    this.graceTimer = setTimeout(() => this.reset(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
    this.moveGrace(this.framed);
  }

  /** Our own abort: RST, the stream destroyed without an error. */
  reset(): void {
    this.framed.reset();
    this.duplex.destroy();
  }

  /** The agent gave up on the connection (consent lost or expired, restarts failed): the stream fails. */
  fail(error: IceTcpError): void {
    // a stream that settled is over already: the reader may still be taking its last bytes
    if (this.settled || !this.alive) return;
    this.framed.reset();
    this.duplex.destroy(error);
  }

  /** The grace timer counts silence: anything the peer sends on the path in use restarts it. */
  private moveGrace(next: FramedConnection): void {
    this.framed.off('frame', this.refreshGrace).off('bytes', this.refreshGrace);
    if (this.graceTimer) next.on('frame', this.refreshGrace).on('bytes', this.refreshGrace);
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.framed.off('frame', this.refreshGrace).off('bytes', this.refreshGrace);
  }
}

function pathOf(leg: ResumeLeg): FramedResumePath {
  return new FramedResumePath(leg.framed, {
    localKey: leg.keys.localKey,
    remoteKey: leg.keys.remoteKey,
    earlyFrames: leg.earlyFrames,
    isIceFrame: leg.isIceFrame,
  });
}
