import { StunParseError } from '../errors.js';
import {
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
} from '../stun/index.js';

/** What the server knows about one received message besides its bytes. */
export interface BindingContext {
  /** Where the message came from: the mapped address to report. */
  source: TransportAddress;
  /** RFC 5780 RESPONSE-ORIGIN: the endpoint that received it (only with an alternate endpoint). */
  origin?: TransportAddress | undefined;
  /** RFC 5780 OTHER-ADDRESS: the server's other endpoint (only with an alternate endpoint). */
  other?: TransportAddress | undefined;
  /** SOFTWARE of every response. */
  software?: string | undefined;
  /**
   * Largest response worth sending (UDP: a multiple of the request's size, against reflection attacks).
   * Optional attributes are left out until it fits; the mandatory ones are sent whatever their size.
   */
  maxResponseSize?: number | undefined;
}

/** What a response carries beyond its mandatory attributes, richest first. */
interface Extras {
  software: boolean;
  rfc5780: boolean;
  fingerprint: boolean;
  reason: boolean;
}

/** The server's verdict on one message: bytes to send back, silence, or junk that ends a TCP connection. */
export type BindingOutcome =
  | { kind: 'reply'; response: Buffer; code: number }
  | { kind: 'ignore'; why: string }
  | { kind: 'junk'; error: StunParseError };

/** Builds the richest response that fits `ctx.maxResponseSize`, dropping SOFTWARE first. */
function respond(
  message: StunMessage,
  ctx: BindingContext,
  cls: StunClass,
  core: (builder: StunMessageBuilder, extras: Extras) => void,
): Buffer {
  const limit = ctx.maxResponseSize ?? Number.POSITIVE_INFINITY;
  // A request without FINGERPRINT does not need one back (RFC 8489 §14.7: it is for demultiplexing).
  const withFingerprint = message.hasFingerprint();
  const levels: Extras[] = [
    { software: true, rfc5780: true, fingerprint: true, reason: true },
    { software: false, rfc5780: true, fingerprint: true, reason: true },
    { software: false, rfc5780: false, fingerprint: true, reason: true },
    { software: false, rfc5780: false, fingerprint: withFingerprint, reason: false },
  ];
  let response: Buffer = Buffer.alloc(0);
  for (const extras of levels) {
    // A copy: the builder keeps the id and `message.transactionId` is a view into the received buffer.
    const builder = new StunMessageBuilder(message.method, cls, Buffer.from(message.transactionId));
    if (cls === StunClass.SuccessResponse) builder.xorMappedAddress(ctx.source);
    core(builder, extras);
    if (extras.rfc5780 && ctx.origin) builder.responseOrigin(ctx.origin);
    if (extras.rfc5780 && ctx.other) builder.otherAddress(ctx.other);
    if (extras.software && ctx.software !== undefined) builder.software(ctx.software);
    response = builder.build({ fingerprint: extras.fingerprint });
    if (response.length <= limit) break;
  }
  return response;
}

/**
 * Answers one STUN message (RFC 8489 §6.3): Binding requests get XOR-MAPPED-ADDRESS, requests with
 * unknown comprehension-required attributes get 420, other methods 400; indications and responses are
 * ignored. Bytes that do not decode, or whose FINGERPRINT is wrong, are junk.
 */
export function answerBinding(raw: Buffer, ctx: BindingContext): BindingOutcome {
  let message: StunMessage;
  try {
    message = StunMessage.decode(raw);
  } catch (error) {
    if (error instanceof StunParseError) return { kind: 'junk', error };
    throw error;
  }
  if (message.hasFingerprint() && !message.verifyFingerprint()) {
    return { kind: 'junk', error: new StunParseError('FINGERPRINT does not match') };
  }
  if (message.cls !== StunClass.Request) return { kind: 'ignore', why: `class ${message.cls}` };
  const unknown = message.unknownComprehensionRequired();
  if (unknown.length > 0) {
    const response = respond(message, ctx, StunClass.ErrorResponse, (b, extras) =>
      b.errorCode(420, extras.reason ? undefined : '').unknownAttributes(unknown),
    );
    return { kind: 'reply', response, code: 420 };
  }
  if (message.method !== StunMethod.Binding) {
    const response = respond(message, ctx, StunClass.ErrorResponse, (b, extras) =>
      b.errorCode(400, extras.reason ? 'Only Binding is served here' : ''),
    );
    return { kind: 'reply', response, code: 400 };
  }
  return { kind: 'reply', response: respond(message, ctx, StunClass.SuccessResponse, () => {}), code: 200 };
}
