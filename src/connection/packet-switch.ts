/** One packet transport as the {@link PacketPathSwitch} sees it (a selected pair's framed connection). */
export interface PacketPath {
  /** Starts delivering the peer's packets; any that arrived before come first, in order. */
  open(onPacket: (packet: Buffer) => void): void;
  /** Sends one packet; false when the path's buffer is full. */
  send(packet: Buffer): boolean;
  /** The switch is done with this path: close it; its packets are ignored from now on. */
  close(): void;
}

/**
 * Packet mode across path switches: packets are never duplicated or reordered, and as few as possible are
 * lost. Each packet is sent once, on the newest path. Older paths are still read, but a path is read only
 * until a packet arrives on a newer one: the peer walks the same paths in the same order and sent everything
 * on an older path before anything on a newer one, so a later packet from the older path is stale and is
 * dropped (the older path is closed then). Packets in flight on a path that died are lost (media tolerates
 * it). Works with any peer: no negotiation, nothing added on the wire.
 */
export class PacketPathSwitch {
  /** Paths still read, oldest first; the last one is where packets are sent. */
  private paths: PacketPath[] = [];
  /** Packets dropped because they came late on a superseded path. */
  droppedLate = 0;

  constructor(private readonly deliver: (packet: Buffer) => void) {}

  /** Sends on the newest path; false when there is none or it is congested. */
  send(packet: Buffer): boolean {
    return this.paths.at(-1)?.send(packet) ?? false;
  }

  /** The new pair was nominated: send on `path` from now on (older paths are read until it is heard). */
  switchTo(path: PacketPath): void {
    this.paths.push(path);
    path.open((packet) => this.onPacket(path, packet));
  }

  /** Closes every path. */
  close(): void {
    for (const p of this.paths.splice(0)) p.close();
  }

  private onPacket(path: PacketPath, packet: Buffer): void {
    const index = this.paths.indexOf(path);
    if (index < 0) {
      this.droppedLate++;
      return;
    }
    // the peer has moved on to this path: nothing older can still come in order
    for (const old of this.paths.splice(0, index)) old.close();
    this.deliver(packet);
  }
}
