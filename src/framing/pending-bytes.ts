/**
 * The received part of one unfinished frame, kept as views of the chunks it arrived in so that
 * each push costs no copy; the single copy happens in {@link PendingBytes.take}. Callers must not
 * reuse a chunk's memory after pushing it (Node sockets never do).
 */
export class PendingBytes {
  private pieces: Buffer[] = [];
  private held = 0;

  /** Bytes held. */
  get length(): number {
    return this.held;
  }

  /** Keep a view of received bytes. */
  append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.held += piece.length;
  }

  /** Everything held, as one Buffer (one copy, or none for a single piece), and forget it. */
  take(): Buffer {
    const whole =
      this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.held);
    this.clear();
    return whole;
  }

  /** Forget everything held. */
  clear(): void {
    this.pieces = [];
    this.held = 0;
  }
}
