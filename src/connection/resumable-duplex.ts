import { Duplex } from 'node:stream';
import { ClosedError, IceTcpError, ResumeError } from '../errors.js';
import { type ResumableOptions, ResumableStream, type ResumePath } from './resumable.js';

type WriteCallback = (error?: Error | null) => void;

/**
 * The application's byte stream over a {@link ResumableStream}: one `Duplex` that stays the same across path
 * switches, with backpressure both ways (the resume window and the path's buffer on the way out, the reader on
 * the way in) and `allowHalfOpen`. `end()` finishes once the peer acknowledged every byte and the end itself
 * is on its way, so `'finish'` means delivered, not merely handed to the kernel.
 */
export class ResumableDuplex extends Duplex {
  /** The protocol engine: the integrator calls `switchTo()` on it when a new pair is nominated. */
  readonly core: ResumableStream;
  private waitingDrain: WriteCallback | undefined;

  constructor(path: ResumePath | undefined, options: ResumableOptions = {}) {
    super({ allowHalfOpen: true });
    this.core = new ResumableStream(
      { data: (chunk) => this.push(chunk), end: () => this.push(null) },
      path,
      options,
    );
    this.core.on('drain', () => this.releaseWrite());
    this.core.on('error', (error) => this.destroy(error));
  }

  override _read(): void {
    this.core.resumeReading();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    let ok: boolean;
    try {
      ok = this.core.write(chunk);
    } catch (error) {
      callback(error instanceof IceTcpError ? error : new ResumeError(String(error), { cause: error }));
      return;
    }
    if (ok) callback();
    else this.waitingDrain = callback;
  }

  override _final(callback: WriteCallback): void {
    this.core.once('end-acked', () => callback());
    this.core.end();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    const pending = this.waitingDrain;
    this.waitingDrain = undefined;
    pending?.(error ?? new ClosedError('stream destroyed'));
    this.core.removeAllListeners('end-acked');
    this.core.destroy();
    callback(error);
  }

  private releaseWrite(): void {
    const callback = this.waitingDrain;
    this.waitingDrain = undefined;
    callback?.();
  }
}
