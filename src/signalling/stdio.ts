import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseDescriptionLine } from './description.js';
import type { Signaller, SignalMessage } from './messages.js';

/**
 * Signalling as SDP `a=` lines over a pair of streams (the copy-paste flow of `ice-tcp connect`, and the
 * libnice example's format): parameters become `a=ice-ufrag`/`a=ice-pwd`, candidates `a=candidate:` lines,
 * and end-of-candidates `a=end-of-candidates` followed by a blank line. Reading stops at a blank line or
 * `a=end-of-candidates`; lines that are not ICE lines are ignored, bad candidate lines are reported through
 * `onError` and skipped.
 */
export class SdpLineSignaller implements Signaller {
  private readonly handlers = new Set<(message: SignalMessage) => void>();
  private readonly backlog: SignalMessage[] = [];
  private ufrag: string | undefined;
  private pwd: string | undefined;
  private done = false;

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on('line', (line) => this.onLine(line, rl));
    rl.on('close', () => this.finish());
  }

  send(message: SignalMessage): void {
    switch (message.type) {
      case 'parameters':
        this.output.write(`a=ice-ufrag:${message.ufrag}\na=ice-pwd:${message.pwd}\n`);
        break;
      case 'candidate':
        this.output.write(`a=${message.candidate.replace(/^a=/, '')}\n`);
        break;
      case 'end-of-candidates':
        this.output.write('a=end-of-candidates\n\n');
        break;
    }
  }

  onMessage(handler: (message: SignalMessage) => void): () => void {
    this.handlers.add(handler);
    for (const m of this.backlog.splice(0)) handler(m);
    return () => this.handlers.delete(handler);
  }

  private onLine(line: string, rl: { close(): void }): void {
    if (this.done) return;
    let parsed: ReturnType<typeof parseDescriptionLine>;
    try {
      parsed = parseDescriptionLine(line);
    } catch (err) {
      this.onError(err);
      return;
    }
    switch (parsed.kind) {
      case 'ufrag':
        this.ufrag = parsed.value;
        this.maybeParameters();
        break;
      case 'pwd':
        this.pwd = parsed.value;
        this.maybeParameters();
        break;
      case 'candidate':
        this.emit({ type: 'candidate', candidate: line.trim().replace(/^a=/, '') });
        break;
      case 'end-of-candidates':
      case 'blank':
        // a blank line before anything arrived is just spacing, not the end
        if (parsed.kind === 'blank' && this.ufrag === undefined) return;
        this.finish();
        rl.close();
        break;
      case 'ignored':
        break;
    }
  }

  private maybeParameters(): void {
    if (this.ufrag !== undefined && this.pwd !== undefined) {
      this.emit({ type: 'parameters', ufrag: this.ufrag, pwd: this.pwd });
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.emit({ type: 'end-of-candidates' });
  }

  private emit(message: SignalMessage): void {
    if (this.handlers.size === 0) this.backlog.push(message);
    else for (const h of this.handlers) h(message);
  }
}
