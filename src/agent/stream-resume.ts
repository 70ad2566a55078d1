import type { ResumeKeys } from '../connection/resume-mode.js';
import { RESUME_ICE_OPTION, resumeNegotiated } from '../connection/resume-wire.js';
import { shortTermKey } from '../stun/index.js';
import type { CheckIceOptions } from './connection-pool.js';
import type { IceParameters } from './credentials.js';

/**
 * Whether a connection's stream survives ICE restarts (README, "Seamless path switch"): we advertise
 * `icetcp+resume` unless `streamResume: false`, and run the protocol only when the peer advertised it too.
 * Decided once, at the first selection: the byte counts start on the first path, so a connection never
 * changes mode, and the peer's later parameters cannot change it either.
 *
 * Both sides must decide alike, or one runs the protocol over the other's plain framing (its writes stall for
 * good at the window: no ACK ever comes). So a side that saw the peer's option in the signalling states its own
 * in its checks and success responses (ICE-TCP-OPTIONS): a peer whose copy of our parameters lost the option
 * learns it there, before its first selection (the nominating check, or the answer to it, carries it).
 */
export class StreamResumeNegotiation implements CheckIceOptions {
  private peerOptions: readonly string[] | undefined;
  /** The peer's option tokens stated in its checks, when its signalled ones did not reach us. */
  private peerCheckOptions: readonly string[] = [];
  private decided: boolean | undefined;

  constructor(private readonly enabled: boolean) {}

  /** Our ICE option tokens beyond `trickle`. */
  get localOptions(): string[] {
    return this.enabled ? [RESUME_ICE_OPTION] : [];
  }

  /** What our parameters carry: `{ options }` when we advertise something, nothing otherwise. */
  advertised(): { options?: string[] } {
    return this.enabled ? { options: this.localOptions } : {};
  }

  /** The peer's option tokens, from its parameters; a message without any changes nothing. */
  onRemoteOptions(options: unknown): void {
    if (this.decided !== undefined || !Array.isArray(options)) return;
    this.peerOptions = options.filter((o) => typeof o === 'string');
  }

  /**
   * What our checks state: our option, once the peer's signalling showed it speaks it too (a peer that never
   * advertised it, libnice or libwebrtc, gets checks without the attribute), until the decision is made.
   */
  inChecks(): readonly string[] {
    if (this.decided !== undefined) return this.decided ? this.localOptions : [];
    return resumeNegotiated(this.localOptions, this.peerOptions) ? this.localOptions : [];
  }

  /** The peer's tokens from its authenticated check or answer; too late once decided. */
  fromPeer(options: readonly string[]): void {
    if (this.decided === undefined) this.peerCheckOptions = options;
  }

  /** The generation keys a selected pair's resumable stream uses, or undefined when the protocol is off. */
  keysFor(params: IceParameters, remote: IceParameters | undefined): ResumeKeys | undefined {
    this.decided ??= resumeNegotiated(this.localOptions, [
      ...(this.peerOptions ?? []),
      ...this.peerCheckOptions,
    ]);
    if (!this.decided || remote === undefined) return undefined;
    return { localKey: shortTermKey(params.pwd), remoteKey: shortTermKey(remote.pwd) };
  }
}
