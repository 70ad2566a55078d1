import { StunParseError } from '../errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 text from `raw[start, end)`; throws StunParseError when the bytes are not valid UTF-8. */
export function decodeUtf8(raw: Buffer, start: number, end: number, what: string): string {
  const text = raw.toString('utf8', start, end);
  // Buffer decoding is lenient and fast; only a replacement character can hide invalid input.
  if (!text.includes('\ufffd')) return text;
  try {
    return strictUtf8.decode(raw.subarray(start, end));
  } catch {
    throw new StunParseError(`${what} is not valid UTF-8`);
  }
}
