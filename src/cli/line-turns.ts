import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A line longer than this goes on in pieces (the signaller then skips it): what is held stays bounded. */
const MAX_HELD = 64 * 1024;

/**
 * The lines of `input`, one per turn of the event loop. The peer's description arrives in one chunk; read
 * whole, every line is parsed and paired before the first check's dial leaves (a socket connects on
 * `process.nextTick`, after the handler that asked for it). One line per turn lets that SYN go out as soon as
 * the line that made its pair is read (RFC 8838 trickle: candidates are taken as they come anyway).
 */
export function linePerTurn(input: Readable): Readable {
  async function* lines(): AsyncGenerator<string> {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    for await (const chunk of input) {
      partial += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      for (let newline = partial.indexOf('\n'); newline >= 0; newline = partial.indexOf('\n')) {
        const line = partial.slice(0, newline + 1);
        partial = partial.slice(newline + 1);
        yield line;
        await nextTurn();
      }
      if (partial.length > MAX_HELD) {
        yield partial;
        partial = '';
      }
    }
    partial += decoder.end();
    if (partial !== '') yield partial;
  }
  return Readable.from(lines(), { objectMode: false });
}
