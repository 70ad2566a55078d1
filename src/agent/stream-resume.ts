import type { ResumeKeys } from '../connection/resume-mode.js';
import { RESUME_ICE_OPTION, resumeNegotiated } from '../connection/resume-wire.js';
import { shortTermKey } from '../stun/index.js';
import type { IceParameters } from './credentials.js';

/**
 * Whether a connection's stream survives ICE restarts (README, "Seamless path switch"): we advertise
 * `icetcp+resume` unless `streamResume: false`, and run the protocol only when the peer advertised it too.
 * Decided once, at the first selection: the byte counts start on the first path, so a connection never
 * changes mode, and the peer's later parameters cannot change it either.
 */
export class StreamResumeNegotiation {
  private peerOptions: readonly string[] | undefined;
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

  /** The generation keys a selected pair's resumable stream uses, or undefined when the protocol is off. */
  keysFor(params: IceParameters, remote: IceParameters | undefined): ResumeKeys | undefined {
    this.decided ??= resumeNegotiated(this.localOptions, this.peerOptions);
    if (!this.decided || remote === undefined) return undefined;
    return { localKey: shortTermKey(params.pwd), remoteKey: shortTermKey(remote.pwd) };
  }
}
