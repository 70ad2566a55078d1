import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { formatIceOptions, parseDescriptionLine } from '../candidate/description.js';
import { formatNatLine } from '../candidate/nat-profile.js';
import { SignallingError } from '../errors.js';
import type { Signaller, SignalMessage } from './messages.js';

/** Longest line an {@link SdpLineSignaller} reads (characters); a candidate line is at most 1024. */
export const MAX_SIGNAL_LINE = 4096;

/** Options of an {@link SdpLineSignaller}. */
export interface SdpLineSignallerOptions {
  /** Longer lines are reported through `onError` (SignallingError) and skipped. Default 4096. */
  maxLineLength?: number;
  /**
   * Keep reading after `a=end-of-candidates` and blank lines, so that the peer's ICE restarts (a new
   * `a=ice-ufrag`/`a=ice-pwd` pair, its candidates, another end-of-candidates) reach the agent. Default false:
   * reading stops at the end of the first description, and what follows on the input is the application's.
   */
  followRestarts?: boolean;
}

/**
 * Signalling as SDP `a=` lines over a pair of streams (the copy-paste flow of `ice-tcp connect`, and the
 * libnice example's format): parameters become `a=ice-ufrag`/`a=ice-pwd`, candidates `a=candidate:` lines,
 * and end-of-candidates `a=end-of-candidates` followed by a blank line. Reading stops at a blank line or
 * `a=end-of-candidates`; lines that are not ICE lines are ignored, bad candidate lines are reported through
 * `onError` and skipped, and so is a line longer than `maxLineLength` (the reader never holds more of it).
 */
export class SdpLineSignaller implements Signaller {
  private readonly handlers = new Set<(message: SignalMessage) => void>();
  private readonly backlog: SignalMessage[] = [];
  /** The credentials read since the last parameters message: a restart's pair is complete with both. */
  private ufrag: string | undefined;
  private pwd: string | undefined;
  /** The credentials of the last parameters message. */
  private sent: { ufrag: string; pwd: string } | undefined;
  /** This generation's end-of-candidates went out (a restart's parameters open the next one). */
  private ended = false;
  private readonly followRestarts: boolean;
  /** The peer's `a=ice-options` tokens other than `trickle`, sent along with its parameters. */
  private options: string[] | undefined;
  /** The peer's `a=ice-lite`: it goes with its parameters. */
  private lite = false;
  /** The peer's `a=x-ice-tcp-nat` tokens, sent with its parameters (again when they come after them). */
  private nat: string[] | undefined;
  /** The credentials we last wrote. */
  private written: string | undefined;
  /** The options the last parameters message carried: a later options line re-sends them only if they changed. */
  private sentOptions: string | undefined;
  private done = false;

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly onError: (err: unknown) => void = () => {},
    options: SdpLineSignallerOptions = {},
  ) {
    const maxLineLength = options.maxLineLength ?? MAX_SIGNAL_LINE;
    this.followRestarts = options.followRestarts ?? false;
    const decoder = new StringDecoder('utf8');
    let partial = '';
    let skipping = false;
    const stop = () => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('close', onEnd);
      input.pause();
    };
    const onData = (chunk: Buffer | string) => {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (;;) {
        const newline = text.indexOf('\n');
        const piece = newline < 0 ? text : text.slice(0, newline);
        if (!skipping) {
          if (partial.length + piece.length > maxLineLength) {
            // the rest of this line is dropped as it arrives: memory stays bounded whatever the peer sends
            skipping = true;
            partial = '';
            this.onError(new SignallingError(`signalling line longer than ${maxLineLength} characters`));
          } else {
            partial += piece;
          }
        }
        if (newline < 0) return;
        text = text.slice(newline + 1);
        const line = partial.endsWith('\r') ? partial.slice(0, -1) : partial;
        const wasSkipping = skipping;
        partial = '';
        skipping = false;
        if (!wasSkipping) this.onLine(line, stop);
        if (this.done) return;
      }
    };
    const onEnd = () => {
      const rest = partial + decoder.end();
      if (!skipping && rest !== '' && !this.done) this.onLine(rest, stop);
      stop();
      this.finish();
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
  }

  send(message: SignalMessage): void {
    switch (message.type) {
      case 'parameters': {
        // options first: a reader has them when the credentials complete the parameters
        const options = message.options?.length ? `${formatIceOptions(message.options)}\n` : '';
        const lite = message.lite ? 'a=ice-lite\n' : '';
        const nat = formatNatLine(message.nat ?? []);
        const credentials = `a=ice-ufrag:${message.ufrag}\na=ice-pwd:${message.pwd}`;
        // the same credentials again only add what gathering measured: the NAT line alone
        if (nat && credentials === this.written) this.output.write(`${nat}\n`);
        else this.output.write(`${options}${lite}${nat ? `${nat}\n` : ''}${credentials}\n`);
        this.written = credentials;
        break;
      }
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

  private onLine(line: string, stop: () => void): void {
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
      case 'options': {
        // every ice-tcp agent trickles: the options worth carrying are the others
        this.options = parsed.tokens.filter((t) => t !== 'trickle');
        // after the credentials (as localDescription() orders them): tell the new options once
        const changed = this.sentOptions !== undefined && this.sentOptions !== this.options.join(' ');
        if (changed) this.maybeParameters();
        break;
      }
      case 'nat':
        this.nat = parsed.tokens;
        if (this.sent) this.maybeParameters();
        break;
      case 'lite':
        // session-level, before the credentials (as we send it); a later one goes with the next parameters
        this.lite = true;
        break;
      case 'candidate':
        this.emit({ type: 'candidate', candidate: line.trim().replace(/^a=/, '') });
        break;
      case 'end-of-candidates':
      case 'blank':
        // a blank line before anything arrived is just spacing, not the end
        if (parsed.kind === 'blank' && this.ufrag === undefined && this.sent === undefined) return;
        if (this.followRestarts) {
          this.endGeneration();
          return;
        }
        this.finish();
        stop();
        break;
      case 'ignored':
        break;
    }
  }

  /**
   * Once both credentials are in: the parameters message. A second pair (an ICE restart) is sent once both of
   * its lines arrived, never as a mix of the old and the new; an options line re-sends the last pair.
   */
  private maybeParameters(): void {
    const ufrag = this.ufrag ?? this.sent?.ufrag;
    const pwd = this.pwd ?? this.sent?.pwd;
    const fresh = this.ufrag !== undefined && this.pwd !== undefined;
    if (ufrag === undefined || pwd === undefined || (!fresh && (this.ufrag ?? this.pwd) !== undefined))
      return;
    this.ufrag = undefined;
    this.pwd = undefined;
    this.sent = { ufrag, pwd };
    this.ended = false;
    const options = this.options ?? [];
    this.sentOptions = options.join(' ');
    const extra = options.length > 0 ? { options } : {};
    const nat = this.nat ? { nat: this.nat } : {};
    this.emit({ type: 'parameters', ufrag, pwd, ...extra, ...(this.lite && { lite: true }), ...nat });
  }

  /** The end of one generation's candidates, once (a restart's reader goes on reading). */
  private endGeneration(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit({ type: 'end-of-candidates' });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.endGeneration();
  }

  private emit(message: SignalMessage): void {
    if (this.handlers.size === 0) this.backlog.push(message);
    else for (const h of this.handlers) h(message);
  }
}
