/**
 * Fuzzes every parser that reads bytes from the network: the STUN decoder (and every attribute getter),
 * the RFC 4571 deframer (whole frames, and the pass-through path of stream mode) and the STUN-over-TCP
 * splitter. Each gets random and mutated inputs from a seeded
 * PRNG; a parser may accept an input or throw an IceTcpError with a code, anything else is a bug.
 * Run: npx tsx bench/fuzz-parsers.ts [--inputs 1000000] [--seed N]
 * Exits 1 when any parser threw something other than a typed error or broke one of its invariants.
 */
import { IceTcpError } from '../src/errors.js';
import { encodeFrame, MAX_FRAME_SIZE, Rfc4571Deframer } from '../src/framing/rfc4571.js';
import { StunStreamSplitter } from '../src/framing/stun-splitter.js';
import {
  MAGIC_COOKIE,
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../src/stun/index.js';
import { splitAt } from '../test/framing/helpers.js';
import { everyAttributeMessage, readEverything as readAll } from '../test/stun/fuzz-fixtures.js';
import { Prng } from '../test/support/hostile/prng.js';

function option(name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = Number(process.argv[index + 1]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

const inputsPerParser = option('inputs') ?? 1_000_000;
const seed = option('seed') ?? Math.floor(Math.random() * 0x1_0000_0000);
// Most inputs end in a thrown error, and capturing its stack would cost more than the parse itself.
Error.stackTraceLimit = 0;

/** Inputs are generated in batches outside the timed region, so the times are the parsers' alone. */
const BATCH = 10_000;

/** Big enough for the largest RFC 4571 frame; drawn once, from the seed. */
const NOISE_POOL_SIZE = 1 << 20;

/** The shared sfc32 generator (same seed, same inputs), with long byte strings cut from a pool of noise. */
class PooledPrng extends Prng {
  private pool: Buffer | undefined;

  /** `n` random bytes: short ones drawn directly, long ones copied from a random place in the pool. */
  override bytes(n: number): Buffer {
    if (n <= 64) return super.bytes(n);
    if (this.pool === undefined) {
      this.pool = Buffer.allocUnsafe(NOISE_POOL_SIZE);
      for (let i = 0; i < NOISE_POOL_SIZE; i += 4) this.pool.writeUInt32LE(this.next(), i);
    }
    const out = Buffer.allocUnsafe(n);
    const from = this.below(NOISE_POOL_SIZE - n + 1);
    this.pool.copy(out, 0, from, from + n);
    return out;
  }
}

const rng = new PooledPrng(seed);

/** Lengths near the edges parsers get wrong: zero, off-by-one around words and limits, the 16-bit maximum. */
const EDGE_LENGTHS = [
  0, 1, 2, 3, 4, 5, 7, 8, 12, 16, 19, 20, 21, 24, 32, 0x7fff, 0x8000, 0xfffc, 0xfffd, 0xffff,
];

function interestingLength(): number {
  return rng.chance(0.5) ? rng.pick(EDGE_LENGTHS) : rng.below(0x10000);
}

// ---------------------------------------------------------------------------------------------
// STUN decoder
// ---------------------------------------------------------------------------------------------

const key = shortTermKey('fuzz-password-0123456789');
const attributeTypes = [...Object.values(StunAttr), 0x7777, 0xc001, 0x0000, 0xffff];

/** Valid messages to mutate: a typical ICE check, its response, a TURN error with every attribute kind. */
const stunSeeds: Buffer[] = [
  new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .username('a1b2c3d4:e5f6g7h8')
    .priority(1853824767)
    .iceControlling(0x0123456789abcdefn)
    .useCandidate()
    .build({ integrityKey: key, fingerprint: true }),
  new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse)
    .xorMappedAddress({ family: 4, address: '192.0.2.1', port: 32853 })
    .build({ integrityKey: key, fingerprint: true }),
  new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse)
    .xorMappedAddress({ family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 })
    .software('fuzz')
    .build({ padding: 0x20, integrityKey: key }),
  everyAttributeMessage(key),
  new StunMessageBuilder(StunMethod.Binding, StunClass.Indication).build({ fingerprint: true }),
];

function attributeOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  for (let p = 20; p + 4 <= buf.length; p += 4 + ((buf.readUInt16BE(p + 2) + 3) & ~3)) offsets.push(p);
  return offsets;
}

/** One mutation of a copy of `input`; kinds are the ways real garbage and attacks differ from a valid message. */
function mutateStun(input: Buffer): Buffer {
  const buf = Buffer.from(input);
  const offsets = attributeOffsets(buf);
  switch (rng.below(8)) {
    case 0: // truncation
      return buf.subarray(0, rng.below(buf.length + 1));
    case 1: // wrong or huge message length
      if (buf.length >= 4) buf.writeUInt16BE(interestingLength(), 2);
      return buf;
    case 2: {
      // bad attribute length, including ones running past the end
      const at = offsets.length > 0 ? rng.pick(offsets) : undefined;
      if (at !== undefined) buf.writeUInt16BE(interestingLength(), at + 2);
      return buf;
    }
    case 3: {
      // an attribute re-typed, so a value meets a getter that expects another format
      const at = offsets.length > 0 ? rng.pick(offsets) : undefined;
      if (at !== undefined) buf.writeUInt16BE(rng.pick(attributeTypes), at);
      return buf;
    }
    case 4: {
      // flipped bytes anywhere
      const flips = 1 + rng.below(4);
      for (let i = 0; i < flips && buf.length > 0; i++) {
        const at = rng.below(buf.length);
        buf[at] = (buf[at] ?? 0) ^ (1 + rng.below(255));
      }
      return buf;
    }
    case 5: {
      // trailing bytes, with the header length sometimes made to cover them
      const out = Buffer.concat([buf, rng.bytes(rng.below(41))]);
      if (rng.chance(0.5) && out.length >= 4) out.writeUInt16BE((out.length - 20) & 0xffff, 2);
      return out;
    }
    case 6: {
      // an attribute value overwritten with noise (bad address families, bad UTF-8, bad error classes)
      const at = offsets.length > 0 ? rng.pick(offsets) : undefined;
      if (at !== undefined) {
        const valueEnd = Math.min(buf.length, at + 4 + buf.readUInt16BE(at + 2));
        for (let p = at + 4; p < valueEnd; p++) if (rng.chance(0.3)) buf[p] = rng.next() & 0xff;
      }
      return buf;
    }
    default: {
      // attributes reordered: FINGERPRINT or MESSAGE-INTEGRITY no longer last
      if (offsets.length < 2) return buf;
      const i = rng.below(offsets.length - 1);
      const a = offsets[i] as number;
      const b = offsets[i + 1] as number;
      const end = offsets[i + 2] ?? buf.length;
      return Buffer.concat([buf.subarray(0, a), buf.subarray(b, end), buf.subarray(a, b), buf.subarray(end)]);
    }
  }
}

/** A plausible header followed by random attribute bytes, so the attribute walk is reached. */
function headerThenNoise(): Buffer {
  const body = rng.bytes(rng.below(121));
  const padded = Buffer.alloc((body.length + 3) & ~3);
  body.copy(padded);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(rng.below(0x4000), 0);
  header.writeUInt16BE(padded.length, 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  return Buffer.concat([header, padded]);
}

function stunInput(): Buffer {
  const r = rng.below(10);
  if (r < 2) return rng.bytes(rng.below(161));
  if (r < 4) return headerThenNoise();
  if (r === 4) return Buffer.from(rng.pick(stunSeeds));
  let buf = rng.pick(stunSeeds);
  const mutations = 1 + rng.below(3);
  for (let i = 0; i < mutations; i++) buf = mutateStun(buf);
  return buf;
}

/** Decodes and reads every attribute through every getter; only decode may throw (StunParseError). */
function readEverything(buf: Buffer): void {
  readAll(StunMessage.decode(buf), key);
}

// ---------------------------------------------------------------------------------------------
// Stream parsers: a stream is cut into pieces that are pushed one by one, then end() is called.
// ---------------------------------------------------------------------------------------------

interface StreamCase {
  pieces: Buffer[];
  limit: number;
  /** What a correct parser must return for the whole stream, when the stream is well formed. */
  expected: Buffer[] | undefined;
}

function cutIntoPieces(data: Buffer): Buffer[] {
  const cuts: number[] = [];
  // Sometimes byte by byte, to split every header; only for short streams, or the run would take hours.
  const count = data.length <= 512 && rng.chance(0.1) ? data.length : rng.below(7);
  for (let i = 0; i < count; i++) cuts.push(rng.below(data.length + 1));
  cuts.sort((a, b) => a - b);
  return splitAt(data, cuts);
}

/** Flips, truncates or overwrites a length inside a stream: the damage a broken peer or middlebox does. */
function damageStream(data: Buffer, lengthOffsets: number[]): Buffer {
  const buf = Buffer.from(data);
  switch (rng.below(4)) {
    case 0:
      return buf.subarray(0, rng.below(buf.length + 1));
    case 1: {
      const at = lengthOffsets.length > 0 ? rng.pick(lengthOffsets) : undefined;
      if (at !== undefined && at + 2 <= buf.length) buf.writeUInt16BE(interestingLength(), at);
      return buf;
    }
    case 2: {
      for (let i = 0; i < 1 + rng.below(4) && buf.length > 0; i++) {
        const at = rng.below(buf.length);
        buf[at] = (buf[at] ?? 0) ^ (1 + rng.below(255));
      }
      return buf;
    }
    default:
      return Buffer.concat([buf, rng.bytes(1 + rng.below(8))]);
  }
}

function deframerCase(): StreamCase {
  const limit = rng.chance(0.5) ? MAX_FRAME_SIZE : 1 + rng.below(rng.chance(0.5) ? 64 : 2000);
  if (rng.chance(0.15))
    return { pieces: cutIntoPieces(rng.bytes(rng.below(201))), limit, expected: undefined };
  const payloads: Buffer[] = [];
  const frames: Buffer[] = [];
  const lengthOffsets: number[] = [];
  let size = 0;
  const count = rng.below(6);
  for (let i = 0; i < count; i++) {
    const big = rng.chance(0.005);
    const payload = rng.bytes(big ? rng.below(MAX_FRAME_SIZE + 1) : rng.below(Math.min(limit, 48) + 1));
    lengthOffsets.push(size);
    size += payload.length + 2;
    payloads.push(payload);
    frames.push(encodeFrame(payload));
  }
  const stream = Buffer.concat(frames, size);
  if (rng.chance(0.6)) {
    const fits = payloads.every((p) => p.length <= limit);
    return { pieces: cutIntoPieces(stream), limit, expected: fits ? payloads : undefined };
  }
  return { pieces: cutIntoPieces(damageStream(stream, lengthOffsets)), limit, expected: undefined };
}

/** A header-valid STUN message with `bodyLength` bytes of attribute space (the splitter reads headers only). */
function stunShell(bodyLength: number): Buffer {
  const message = rng.bytes(20 + bodyLength);
  message.writeUInt16BE(rng.below(0x4000), 0);
  message.writeUInt16BE(bodyLength, 2);
  message.writeUInt32BE(MAGIC_COOKIE, 4);
  return message;
}

function splitterCase(): StreamCase {
  const limit = rng.chance(0.5) ? 8192 : 20 + rng.below(200);
  if (rng.chance(0.15))
    return { pieces: cutIntoPieces(rng.bytes(rng.below(201))), limit, expected: undefined };
  const messages: Buffer[] = [];
  const lengthOffsets: number[] = [];
  let size = 0;
  const count = rng.below(6);
  for (let i = 0; i < count; i++) {
    const message = rng.chance(0.5) ? Buffer.from(rng.pick(stunSeeds)) : stunShell(4 * rng.below(40));
    lengthOffsets.push(size + 2);
    size += message.length;
    messages.push(message);
  }
  const stream = Buffer.concat(messages, size);
  if (rng.chance(0.6)) {
    const fits = messages.every((m) => m.length <= limit);
    return { pieces: cutIntoPieces(stream), limit, expected: fits ? messages : undefined };
  }
  return { pieces: cutIntoPieces(damageStream(stream, lengthOffsets)), limit, expected: undefined };
}

interface StreamParser {
  push(chunk: Buffer): Buffer[];
  end(): void;
  readonly bufferedBytes: number;
}

/** A broken invariant: reported with the other unexpected exceptions, since it is a bug all the same. */
class InvariantError extends Error {}

function sameBuffers(actual: Buffer[], expected: Buffer[]): boolean {
  return actual.length === expected.length && actual.every((b, i) => b.equals(expected[i] as Buffer));
}

/**
 * Pushes every piece, then end(). Checks the limits on every output and on what is buffered, that a
 * well-formed stream comes out exactly as it went in, and that a parser that failed stays failed.
 */
function runStream(parser: StreamParser, c: StreamCase, maxBuffered: number): void {
  const out: Buffer[] = [];
  try {
    for (const piece of c.pieces) {
      for (const item of parser.push(piece)) {
        if (item.length > c.limit)
          throw new InvariantError(`output of ${item.length} bytes above ${c.limit}`);
        out.push(item);
      }
      if (parser.bufferedBytes > maxBuffered) {
        throw new InvariantError(`${parser.bufferedBytes} bytes buffered, above ${maxBuffered}`);
      }
    }
    parser.end();
  } catch (error) {
    if (error instanceof IceTcpError) {
      let again: unknown;
      try {
        parser.push(Buffer.alloc(1));
      } catch (next) {
        again = next;
      }
      // A truncated stream may go on; after any other failure the boundaries are lost for good.
      if (error.code !== 'ERR_FRAME_TRUNCATED' && !(again instanceof IceTcpError)) {
        throw new InvariantError(`did not stay failed after ${error.code}`);
      }
    }
    throw error;
  }
  if (c.expected !== undefined && !sameBuffers(out, c.expected)) {
    throw new InvariantError('a well-formed stream did not come out as it went in');
  }
}

/**
 * The deframer's pass-through path (`pushTo`, used by stream mode) behind the `push` interface: frames the
 * predicate lets through come as pieces, which are joined back here so the same checks apply; pieces must
 * arrive in order, never overrun their frame, and every frame must be announced before its pieces.
 */
class PassThroughDeframer implements StreamParser {
  private readonly deframer: Rfc4571Deframer;
  private out: Buffer[] = [];
  private pieces: Buffer[] = [];
  private remaining = 0;
  private readonly sink = {
    frame: (frame: Buffer): void => {
      if (this.remaining > 0) throw new InvariantError('a whole frame inside a passed-through one');
      this.out.push(frame);
    },
    bytes: (piece: Buffer): void => {
      if (piece.length === 0 || piece.length > this.remaining) {
        throw new InvariantError(`piece of ${piece.length} bytes with ${this.remaining} to come`);
      }
      this.pieces.push(piece);
      this.remaining -= piece.length;
      if (this.remaining === 0) this.out.push(Buffer.concat(this.pieces));
      if (this.remaining === 0) this.pieces = [];
    },
    streams: (_firstByte: number, length: number): boolean => {
      if (this.remaining > 0) throw new InvariantError('a frame announced inside a passed-through one');
      if (!rng.chance(0.7)) return false;
      this.remaining = length;
      return true;
    },
  };

  constructor(maxFrameSize: number) {
    this.deframer = new Rfc4571Deframer({ maxFrameSize });
  }

  get bufferedBytes(): number {
    return this.deframer.bufferedBytes;
  }

  push(chunk: Buffer): Buffer[] {
    this.out = [];
    this.deframer.pushTo(chunk, this.sink);
    return this.out;
  }

  end(): void {
    this.deframer.end();
    if (this.remaining > 0) throw new InvariantError('end() accepted a passed-through frame cut short');
  }
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

interface Outcome {
  inputs: number;
  accepted: number;
  typedErrors: Record<string, number>;
  otherExceptions: number;
  /** Up to five distinct unexpected exceptions, to start debugging from. */
  otherSamples: string[];
  parseMs: number;
  nsPerInput: number;
}

function fuzz<T>(
  name: string,
  generate: () => T,
  parse: (input: T) => void,
  describe: (input: T) => string,
): Outcome {
  const outcome: Outcome = {
    inputs: 0,
    accepted: 0,
    typedErrors: {},
    otherExceptions: 0,
    otherSamples: [],
    parseMs: 0,
    nsPerInput: 0,
  };
  let parseNs = 0n;
  const batch: T[] = [];
  while (outcome.inputs < inputsPerParser) {
    batch.length = 0;
    const size = Math.min(BATCH, inputsPerParser - outcome.inputs);
    for (let i = 0; i < size; i++) batch.push(generate());
    const start = process.hrtime.bigint();
    for (const input of batch) {
      try {
        parse(input);
        outcome.accepted++;
      } catch (error) {
        if (error instanceof IceTcpError) {
          outcome.typedErrors[error.code] = (outcome.typedErrors[error.code] ?? 0) + 1;
        } else {
          outcome.otherExceptions++;
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          if (outcome.otherSamples.length < 5 && !outcome.otherSamples.some((s) => s.startsWith(text))) {
            outcome.otherSamples.push(`${text} on ${describe(input)}`);
          }
        }
      }
    }
    parseNs += process.hrtime.bigint() - start;
    outcome.inputs += size;
    if (outcome.inputs % 200_000 === 0) process.stderr.write(`${name}: ${outcome.inputs} inputs\n`);
  }
  outcome.parseMs = Math.round(Number(parseNs) / 1e4) / 100;
  outcome.nsPerInput = Math.round(Number(parseNs) / outcome.inputs);
  return outcome;
}

function describeStream(c: StreamCase): string {
  const hex = Buffer.concat(c.pieces).subarray(0, 64).toString('hex');
  return `limit ${c.limit}, pieces ${c.pieces.map((p) => p.length).join('+')}, starts ${hex}`;
}

process.stderr.write(`seed ${seed}, ${inputsPerParser} inputs per parser\n`);
const started = Date.now();
const parsers = {
  stunDecode: fuzz('stunDecode', stunInput, readEverything, (b) => b.toString('hex')),
  rfc4571Deframer: fuzz(
    'rfc4571Deframer',
    deframerCase,
    (c) => runStream(new Rfc4571Deframer({ maxFrameSize: c.limit }), c, c.limit + 2),
    describeStream,
  ),
  rfc4571DeframerPassThrough: fuzz(
    'rfc4571DeframerPassThrough',
    deframerCase,
    (c) => runStream(new PassThroughDeframer(c.limit), c, c.limit + 2),
    describeStream,
  ),
  stunSplitter: fuzz(
    'stunSplitter',
    splitterCase,
    (c) => runStream(new StunStreamSplitter({ maxMessageSize: c.limit }), c, c.limit),
    describeStream,
  ),
};
const otherExceptions = Object.values(parsers).reduce((sum, p) => sum + p.otherExceptions, 0);

console.log(
  JSON.stringify(
    {
      node: process.version,
      seed,
      rerun: `npx tsx bench/fuzz-parsers.ts --seed ${seed} --inputs ${inputsPerParser}`,
      inputsPerParser,
      errorStackTraces: false,
      parsers,
      otherExceptions,
      pass: otherExceptions === 0,
      wallMs: Date.now() - started,
    },
    null,
    2,
  ),
);
process.exitCode = otherExceptions === 0 ? 0 : 1;
