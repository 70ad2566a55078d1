import { PassThrough, type Readable } from 'node:stream';

/**
 * Splits a stream that carries signalling lines and then data (netcat style): `head` gets the bytes up to and
 * including the first blank line that follows a non-blank one and then ends; everything after it is put back
 * into `input` (unshift), which is left paused for whoever reads the data. A blank line before any text is
 * spacing, as in SdpLineSignaller.
 */
export function splitAtBlankLine(input: Readable): { head: Readable; done: Promise<void> } {
  const head = new PassThrough();
  let seenText = false;
  let lineEmpty = true;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const finish = () => {
    input.off('data', onData);
    input.off('end', finish);
    input.pause();
    head.end();
    resolveDone();
  };
  const onData = (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === 0x0a) {
        if (lineEmpty && seenText) {
          head.write(chunk.subarray(0, i + 1));
          const rest = chunk.subarray(i + 1);
          finish();
          if (rest.length > 0) input.unshift(rest);
          return;
        }
        lineEmpty = true;
      } else if (byte !== 0x0d) {
        lineEmpty = false;
        seenText = true;
      }
    }
    head.write(chunk);
  };
  input.on('data', onData);
  input.on('end', finish);
  return { head, done };
}
