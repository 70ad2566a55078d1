import { type IceTcpError, ResumeError } from '../errors.js';
import { isStunFrame, mayBeStunFrame } from '../framing/index.js';
import type { IntegrityKey } from '../stun/index.js';
import type { FramedConnection } from '../transport/index.js';
import type { PathHandlers, ResumePath } from './resumable.js';
import { decodeResumeFrame, encodeResumeControl, type ResumeControl } from './resume-wire.js';

/** Options of a {@link FramedResumePath}. */
export interface FramedResumePathOptions {
  /** Our ICE password's key for the generation this connection belongs to: signs our control messages. */
  localKey: IntegrityKey;
  /** The peer's, for the same generation: a control message it did not sign is data. */
  remoteKey: IntegrityKey;
  /** Frames that arrived before the stream took the connection (held by the link), in order. */
  earlyFrames?: readonly Buffer[];
  /** ICE's own STUN on the connection (consent checks, keepalives), handled by the agent: never data. */
  isIceFrame?: (frame: Buffer) => boolean;
}

/**
 * A selected pair's framed TCP connection as a {@link ResumePath}: application bytes go out in RFC 4571
 * frames, control messages as signed Binding indications (`resume-wire.ts`). Incoming frames that cannot be
 * STUN stream through in pieces, as in `IceConnection.stream()`.
 */
export class FramedResumePath implements ResumePath {
  private handlers: PathHandlers | undefined;
  private error: IceTcpError | undefined;

  /** Pauses the connection: what arrives before `open()` (the peer's RESUME may) waits for it. */
  constructor(
    private readonly framed: FramedConnection,
    private readonly options: FramedResumePathOptions,
  ) {
    framed.pause();
  }

  open(handlers: PathHandlers): void {
    this.handlers = handlers;
    const framed = this.framed;
    framed.allowHalfOpen();
    for (const frame of this.options.earlyFrames ?? []) this.onFrame(frame);
    framed.on('frame', (frame) => this.onFrame(frame));
    framed.on('bytes', (piece) => handlers.data(piece));
    framed.streamFrames(
      (firstByte, length, chunk, offset) => !mayBeStunFrame(firstByte, length, chunk, offset),
    );
    framed.on('end', () => handlers.end());
    framed.on('drain', () => handlers.drain());
    framed.on('error', (error) => {
      this.error ??= error;
    });
    framed.on('close', () => handlers.close(this.error));
    if (framed.peerEnded) handlers.end();
    framed.resume();
  }

  sendData(chunk: Buffer): boolean {
    try {
      return this.framed.sendFrames(chunk);
    } catch {
      // the connection went away between two events: its 'close' follows, and the bytes stay in the ledger
      return true;
    }
  }

  sendControl(control: ResumeControl): void {
    try {
      this.framed.sendFrame(encodeResumeControl(control, this.options.localKey));
    } catch {
      // as above: a RESUME or ACK lost with its connection is sent again on the next one
    }
  }

  pause(): void {
    this.framed.pause();
  }

  resume(): void {
    this.framed.resume();
  }

  close(): void {
    this.framed.close();
  }

  private onFrame(frame: Buffer): void {
    const handlers = this.handlers as PathHandlers;
    if (isStunFrame(frame)) {
      let control: ResumeControl | undefined;
      try {
        control = decodeResumeFrame(frame, this.options.remoteKey);
      } catch (error) {
        handlers.fail(error instanceof ResumeError ? error : new ResumeError(String(error)));
        return;
      }
      if (control) {
        handlers.control(control);
        return;
      }
      if (this.options.isIceFrame?.(frame)) return;
    }
    handlers.data(frame);
  }
}
