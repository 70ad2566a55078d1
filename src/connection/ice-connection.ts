import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import type { Candidate } from '../candidate/types.js';
import {
  ClosedError,
  FrameTooLargeError,
  type IceTcpError,
  InvalidArgumentError,
  PathChangedError,
} from '../errors.js';
import { mayBeStunFrame } from '../framing/index.js';
import type { FramedConnection } from '../transport/index.js';
import { FramedByteStream } from './byte-stream.js';
import { FramedPacketPath } from './framed-packet-path.js';
import { PacketPathSwitch } from './packet-switch.js';
import { type ResumeKeys, ResumeStreamMode } from './resume-mode.js';

/** Packets buffered while nobody listens yet, before the socket is paused (nothing is dropped). */
const MAX_QUEUED_PACKETS = 256;
/** Largest payload one RFC 4571 frame carries. */
const MAX_FRAME_PAYLOAD = 65535;

/** Events of an {@link IceConnection}. */
export interface IceConnectionEvents {
  /** One application packet (one RFC 4571 frame), in packet mode. */
  packet: [Buffer];
  /** The send buffer drained below its mark after `send()` returned false. */
  drain: [];
  /** Packet mode: the peer ended its direction (FIN) after its last packet; we may still send until close(). */
  end: [];
  /** The connection is gone: both directions ended, or it was reset. */
  close: [];
  error: [IceTcpError];
  /** An ICE restart moved the connection to a new pair (`{ local, remote }`); it carries on there. */
  'path-change': [{ local: Candidate; remote: Candidate }];
}

/**
 * The application's end of the nominated candidate pair: one TCP connection carrying RFC 4571 frames.
 *
 * Two ways to use it, never both at once:
 * - packet mode (media): `send(packet)` writes one frame; each received frame is one `'packet'` event.
 *   Packets that arrive before the first `'packet'` listener is attached are kept and delivered to it.
 * - stream mode (tunnels): `stream()` returns a `Duplex` of bytes, with backpressure both ways; bytes are
 *   carried in frames of up to 65535 bytes. After `stream()` no `'packet'` event fires.
 * STUN frames (consent checks, keepalives) are answered by the agent and never reach the application.
 * Each direction ends on its own, as with `net.Socket`'s `allowHalfOpen: true`: see the README, "Ending a
 * connection".
 */
export class IceConnection extends EventEmitter<IceConnectionEvents> {
  private local: Candidate;
  private remote: Candidate;
  private framed: FramedConnection;
  /** Packets across ICE restarts: late ones from a superseded path are dropped, never duplicated or reordered. */
  private readonly paths = new PacketPathSwitch((frame) => this.onFrame(frame));
  /** Removes this connection's listeners from the current path's connection (it moves on a restart). */
  private detach: (() => void) | undefined;
  private currentPath: FramedPacketPath | undefined;
  /** close() or reset() was called: the application is done, a restart does not bring it back. */
  private endedByUs = false;
  private readonly queue: Buffer[] = [];
  private duplex: FramedByteStream | undefined;
  private closedFlag = false;
  private resetByUs = false;
  /** Why the agent took the connection away (consent lost): every later send fails with it. */
  private revoked: IceTcpError | undefined;
  /** Packet mode: the peer's FIN came while packets were still queued for a listener. */
  private endPending = false;
  /** Set when both sides negotiated `icetcp+resume`: the current path's generation keys. */
  private resumeKeys: ResumeKeys | undefined;
  /** Stream mode with the resume protocol: the stream survives path switches (README, "Seamless path switch"). */
  private resume: ResumeStreamMode | undefined;
  /** ICE's frames on the current path, answered by the agent. */
  private isControl: (frame: Buffer) => boolean;

  /** @internal the agent builds connections; applications get them from `agent.connect()`. */
  constructor(
    framed: FramedConnection,
    local: Candidate,
    remote: Candidate,
    isControlFrame: (frame: Buffer) => boolean,
    earlyFrames: readonly Buffer[] = [],
    resumeKeys?: ResumeKeys,
  ) {
    super();
    this.framed = framed;
    this.local = local;
    this.remote = remote;
    this.isControl = isControlFrame;
    this.resumeKeys = resumeKeys;
    this.usePath(framed, isControlFrame, earlyFrames);
  }

  /** The local candidate of the selected pair (the new one after an ICE restart). */
  get localCandidate(): Candidate {
    return this.local;
  }

  /** The remote candidate of the selected pair (the new one after an ICE restart). */
  get remoteCandidate(): Candidate {
    return this.remote;
  }

  /**
   * @internal an ICE restart nominated a new pair: from now on packets go out on `framed`. The old path is still
   * read until the peer's first packet on the new one (it sent everything else before), then `onOldPathDone`.
   * A stream follows when the resume protocol was negotiated (`resumeKeys`, this path's generation's), and
   * otherwise ends with `PathChangedError` (bytes in flight would be lost). Returns false when the application
   * already closed the connection (the new path is then closed too).
   */
  moveTo(
    framed: FramedConnection,
    pair: { local: Candidate; remote: Candidate },
    isControlFrame: (frame: Buffer) => boolean,
    earlyFrames: readonly Buffer[],
    onOldPathDone: () => void,
    resumeKeys?: ResumeKeys,
  ): boolean {
    // a resumable stream ended with close() may still need the new path to deliver its last bytes
    if ((this.resume ? !this.resume.alive : this.endedByUs) || this.revoked) {
      framed.close();
      return false;
    }
    this.local = pair.local;
    this.remote = pair.remote;
    this.resumeKeys = resumeKeys;
    if (this.resume) {
      this.resume.switchTo({
        framed,
        keys: resumeKeys as ResumeKeys,
        earlyFrames,
        isIceFrame: isControlFrame,
      });
    } else if (this.duplex && !this.duplex.destroyed) {
      const error = new PathChangedError(
        'an ICE restart moved the connection: the byte stream cannot follow',
      );
      this.duplex.abandon(error);
      this.emit('error', error);
    }
    this.framed = framed;
    if (this.currentPath) this.currentPath.onSuperseded = onOldPathDone;
    this.usePath(framed, isControlFrame, earlyFrames);
    // a path lost before the restart closed the connection: it is back (packet mode; README, "ICE restart")
    this.closedFlag = false;
    this.endPending = false;
    this.emit('path-change', { local: pair.local, remote: pair.remote });
    if (!this.duplex && !this.resume) this.emit('drain');
    return true;
  }

  /** Local transport address of the TCP connection. */
  get localAddress(): { address: string; port: number } {
    return { address: this.framed.localAddress, port: this.framed.localPort };
  }

  /** Remote transport address of the TCP connection. */
  get remoteAddress(): { address: string; port: number } {
    return { address: this.framed.remoteAddress, port: this.framed.remotePort };
  }

  /** Bytes written to and read from the socket so far (frame headers and STUN included). */
  get bytes(): { sent: number; received: number } {
    return { sent: this.framed.socket.bytesWritten, received: this.framed.socket.bytesRead };
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Sends one packet as one frame. Returns false when the socket buffer is full: wait for `'drain'`.
   * Throws {@link FrameTooLargeError} above 65535 bytes, {@link ClosedError} after close and
   * `ConsentLostError` once the peer no longer consents (RFC 7675).
   */
  send(packet: Buffer | Uint8Array): boolean {
    if (this.revoked) throw this.revoked;
    if (this.closedFlag) throw new ClosedError('connection is closed');
    if (this.duplex || this.resume)
      throw new InvalidArgumentError('connection is in stream mode: write to stream() instead');
    if (packet.length > MAX_FRAME_PAYLOAD) throw new FrameTooLargeError(packet.length, MAX_FRAME_PAYLOAD);
    return this.framed.sendFrame(Buffer.isBuffer(packet) ? packet : Buffer.from(packet));
  }

  /** Switches to stream mode and returns the byte stream (the same one on every call). */
  stream(): Duplex {
    if (this.resume) return this.resume.duplex;
    if (!this.duplex && this.resumeKeys) return this.openResumable(this.resumeKeys);
    if (!this.duplex) {
      const duplex = new FramedByteStream(this.framed);
      this.duplex = duplex;
      for (const f of this.queue.splice(0)) duplex.deliver(f);
      // Frames that cannot be STUN need not be whole to be bytes of the stream; the rest still come whole.
      this.framed.on('bytes', (piece) => duplex.deliver(piece));
      this.framed.streamFrames(
        (firstByte, length, chunk, offset) => !mayBeStunFrame(firstByte, length, chunk, offset),
      );
      if (this.framed.peerEnded) duplex.deliverEnd();
      if (this.closedFlag) duplex.connectionClosed(this.resetByUs);
      this.framed.resume();
    }
    return this.duplex;
  }

  /**
   * Graceful close of our direction: what was sent or written before is flushed, then FIN. The peer's data
   * still arrives until it ends its side ('close' follows); a peer silent for 5 s without ending is reset.
   */
  close(): void {
    this.endedByUs = true;
    if (this.resume) this.resume.close();
    else if (this.duplex) this.duplex.closeGracefully();
    else this.framed.close();
  }

  /** Immediate close with RST: unsent data is dropped; the stream, if any, is destroyed without an error. */
  reset(): void {
    this.endedByUs = true;
    if (!this.closedFlag) this.resetByUs = true;
    this.resume?.reset();
    this.framed.reset();
  }

  /**
   * @internal the agent's verdict that the peer no longer consents to our traffic (RFC 7675): nothing more is
   * sent. The stream (if any) is destroyed with `error`, `'error'` fires with it, then the connection is reset.
   */
  revoke(error: IceTcpError): void {
    if (this.revoked) return;
    this.revoked = error;
    this.duplex?.fail(error);
    this.resume?.fail(error);
    this.emit('error', error);
    this.framed.reset();
  }

  /**
   * @internal the agent gave up on the connection (its path lost and consent expired, no restart succeeded). A
   * resumable stream that was waiting for a new path fails with `error`; other modes learnt it from the path.
   */
  pathGone(error: IceTcpError): void {
    this.resume?.fail(error);
  }

  override on<T extends keyof IceConnectionEvents>(
    event: T,
    fn: (...args: IceConnectionEvents[T]) => void,
    context?: unknown,
  ): this {
    super.on(event, fn as never, context);
    if (event === 'packet' && !this.duplex && !this.resume) setImmediate(() => this.flushQueue());
    return this;
  }

  /** Listens to the connection of the path in use (and only to it: an old path's end is not the peer's end). */
  private usePath(
    framed: FramedConnection,
    isControlFrame: (frame: Buffer) => boolean,
    earlyFrames: readonly Buffer[],
  ): void {
    this.detach?.();
    this.isControl = isControlFrame;
    framed.allowHalfOpen();
    // a resumable stream outlives its paths: their end, errors and close are the stream's business
    const onEnd = () => this.resume || this.onPeerEnd();
    const onDrain = () => this.emit('drain');
    const onError = (e: IceTcpError) => {
      if (this.resume) return;
      this.duplex?.fail(e);
      this.emit('error', e);
    };
    const onClose = () => this.resume || this.onClose();
    framed.on('end', onEnd);
    framed.on('drain', onDrain);
    framed.on('error', onError);
    framed.on('close', onClose);
    this.detach = () => {
      framed.off('end', onEnd);
      framed.off('drain', onDrain);
      framed.off('error', onError);
      framed.off('close', onClose);
    };
    if (this.resume) return;
    this.currentPath = new FramedPacketPath(framed, isControlFrame, earlyFrames);
    this.paths.switchTo(this.currentPath);
  }

  /** Stream mode with the resume protocol, from here on: the packet paths stop, queued frames go to the stream. */
  private openResumable(keys: ResumeKeys): Duplex {
    this.paths.close();
    this.currentPath = undefined;
    const leg = { framed: this.framed, keys, earlyFrames: this.queue.splice(0), isIceFrame: this.isControl };
    this.resume = new ResumeStreamMode(leg, (error) => {
      if (error && error !== this.revoked) this.emit('error', error);
      this.onClose();
    });
    return this.resume.duplex;
  }

  /** A frame that is not ICE's: a packet, or bytes of the stream. */
  private onFrame(frame: Buffer): void {
    if (this.duplex) {
      this.duplex.deliver(frame);
    } else if (this.listenerCount('packet') > 0 && this.queue.length === 0) {
      this.emit('packet', frame);
    } else {
      this.queue.push(frame);
      if (this.queue.length >= MAX_QUEUED_PACKETS) this.framed.pause();
    }
  }

  private flushQueue(): void {
    if (this.duplex || this.resume) return;
    while (this.queue.length > 0 && this.listenerCount('packet') > 0) {
      this.emit('packet', this.queue.shift() as Buffer);
    }
    if (this.queue.length < MAX_QUEUED_PACKETS) this.framed.resume();
    if (this.endPending && this.queue.length === 0) {
      this.endPending = false;
      this.emit('end');
    }
  }

  private onPeerEnd(): void {
    if (this.duplex) this.duplex.deliverEnd();
    // 'end' must not overtake packets still waiting for their listener
    else if (this.queue.length > 0) this.endPending = true;
    else this.emit('end');
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.duplex?.connectionClosed(this.resetByUs);
    this.emit('close');
  }
}
