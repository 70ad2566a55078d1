import type { FramedConnection } from '../transport/index.js';
import type { PacketPath } from './packet-switch.js';

/**
 * A selected pair's framed connection as a {@link PacketPath}: every frame that is not ICE's own STUN is one
 * packet. ICE's frames keep reaching the agent through `isControlFrame` as long as the path is read, so the
 * peer's consent checks on an old path are answered until the switch is over.
 */
export class FramedPacketPath implements PacketPath {
  private closed = false;
  private readonly onFrame: (frame: Buffer) => void;
  private deliver: ((packet: Buffer) => void) | undefined;
  /** Set when a newer path replaces this one: the switch is done with this path, the agent may release it. */
  onSuperseded: () => void = () => {};

  constructor(
    readonly framed: FramedConnection,
    private readonly isControlFrame: (frame: Buffer) => boolean,
    private readonly earlyFrames: readonly Buffer[],
  ) {
    this.onFrame = (frame) => {
      if (!this.closed && !this.isControlFrame(frame)) this.deliver?.(frame);
    };
  }

  open(onPacket: (packet: Buffer) => void): void {
    this.deliver = onPacket;
    for (const frame of this.earlyFrames) this.onFrame(frame);
    this.framed.on('frame', this.onFrame);
  }

  send(packet: Buffer): boolean {
    return this.framed.sendFrame(packet);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.framed.off('frame', this.onFrame);
    this.onSuperseded();
  }
}
