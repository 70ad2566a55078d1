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
}

/** The server's verdict on one message: bytes to send back, silence, or junk that ends a TCP connection. */
export type BindingOutcome =
  | { kind: 'reply'; response: Buffer; code: number }
  | { kind: 'ignore'; why: string }
  | { kind: 'junk'; error: StunParseError };

function respond(message: StunMessage, ctx: BindingContext, cls: StunClass): StunMessageBuilder {
  // A copy: the builder keeps the id and `message.transactionId` is a view into the received buffer.
  const builder = new StunMessageBuilder(message.method, cls, Buffer.from(message.transactionId));
  if (cls === StunClass.SuccessResponse) builder.xorMappedAddress(ctx.source);
  return builder;
}

function finish(builder: StunMessageBuilder, ctx: BindingContext): Buffer {
  if (ctx.origin) builder.responseOrigin(ctx.origin);
  if (ctx.other) builder.otherAddress(ctx.other);
  if (ctx.software !== undefined) builder.software(ctx.software);
  return builder.build({ fingerprint: true });
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
    const builder = respond(message, ctx, StunClass.ErrorResponse).errorCode(420).unknownAttributes(unknown);
    return { kind: 'reply', response: finish(builder, ctx), code: 420 };
  }
  if (message.method !== StunMethod.Binding) {
    const builder = respond(message, ctx, StunClass.ErrorResponse).errorCode(
      400,
      'Only Binding is served here',
    );
    return { kind: 'reply', response: finish(builder, ctx), code: 400 };
  }
  return {
    kind: 'reply',
    response: finish(respond(message, ctx, StunClass.SuccessResponse), ctx),
    code: 200,
  };
}
