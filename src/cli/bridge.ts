import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Bytes each way once both directions of a stdio bridge have ended. */
export interface BridgeResult {
  sentBytes: number;
  receivedBytes: number;
}

/**
 * netcat over the connection: `input` (stdin, from where the signalling stopped) to the stream, the stream to
 * `output`. Each direction ends on its own (our EOF is the peer's FIN and the other way round); resolves once
 * both have, rejects with the typed error of the first failure.
 */
export async function bridgeStdio(
  stream: Duplex,
  input: Readable,
  output: Writable,
  beforeEnd: (heard: () => boolean) => Promise<void> = async () => undefined,
): Promise<BridgeResult> {
  let sentBytes = 0;
  let receivedBytes = 0;
  input.on('data', (c: Buffer) => {
    sentBytes += c.length;
  });
  stream.on('data', (c: Buffer) => {
    receivedBytes += c.length;
  });
  // our EOF becomes the FIN only once `beforeEnd` allows it (the peer may still be checking)
  const send = async () => {
    await pipeline(input, stream, { end: false });
    await beforeEnd(() => receivedBytes > 0);
    await new Promise<void>((resolve) => stream.end(resolve));
  };
  // `end: false` towards stdout: process.stdout cannot be ended, and a finished pipeline is all we need
  await Promise.all([send(), pipeline(stream, output, { end: output !== process.stdout })]);
  return { sentBytes, receivedBytes };
}
