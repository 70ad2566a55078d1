import { iceOptionTags } from '../candidate/description.js';
import { natTokenList } from '../candidate/nat-profile.js';
import { SignallingError } from '../errors.js';

/**
 * One signalling message: ICE credentials, one trickled candidate, or the end of candidates. `options` lists
 * ICE option tokens the sender supports (the `a=ice-options` line of the SDP form, e.g. `icetcp+resume`);
 * a peer that sends none supports none of ours. `lite: true`: the sender is an ice-lite agent (`a=ice-lite`);
 * absent, a full agent. `nat`: the sender's measured NAT behaviour (`a=x-ice-tcp-nat` tokens), sent again with
 * the same credentials once its gathering is complete; absent, unknown.
 */
export type SignalMessage =
  | { type: 'parameters'; ufrag: string; pwd: string; options?: string[]; lite?: boolean; nat?: string[] }
  /** `candidate` is an SDP candidate attribute value (`candidate:...`, with or without `a=`). */
  | { type: 'candidate'; candidate: string }
  | { type: 'end-of-candidates' };

/**
 * The application's signalling channel. Implement it over anything (WebSocket, HTTP, SIP, a chat bot):
 * deliver each message sent on one side to the handler on the other side, in order.
 */
export interface Signaller {
  /** Sends one message to the peer. */
  send(message: SignalMessage): void | Promise<void>;
  /**
   * Registers the handler for the peer's messages; returns a function that unregisters it. Messages that came
   * before any handler are kept for the first one that registers: use one handler (wrap it to watch).
   */
  onMessage(handler: (message: SignalMessage) => void): () => void;
}

/** JSON text of a signalling message (one line, no newline inside). */
export function encodeSignalMessage(message: SignalMessage): string {
  return JSON.stringify(message);
}

/** Parses and validates a JSON signalling message; throws {@link SignallingError} on anything else. */
export function decodeSignalMessage(text: string): SignalMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SignallingError('signalling message is not JSON', { cause: err });
  }
  return validateSignalMessage(value);
}

/** Checks that an untrusted value is a {@link SignalMessage}. */
export function validateSignalMessage(value: unknown): SignalMessage {
  if (typeof value !== 'object' || value === null)
    throw new SignallingError('signalling message is not an object');
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'parameters':
      if (typeof m.ufrag !== 'string' || typeof m.pwd !== 'string') {
        throw new SignallingError('parameters message needs string ufrag and pwd');
      }
      return {
        type: 'parameters',
        ufrag: m.ufrag,
        pwd: m.pwd,
        ...validOptions(m.options),
        ...validLite(m.lite),
        ...validNat(m.nat),
      };
    case 'candidate':
      if (typeof m.candidate !== 'string')
        throw new SignallingError('candidate message needs a string candidate');
      return { type: 'candidate', candidate: m.candidate };
    case 'end-of-candidates':
      return { type: 'end-of-candidates' };
    default:
      throw new SignallingError(`unknown signalling message type ${JSON.stringify(m.type)}`);
  }
}

/** `nat` of a parameters message (`x-ice-tcp-nat` tokens, advice): an array of strings, odd ones dropped. */
function validNat(nat: unknown): { nat?: string[] } {
  if (nat === undefined) return {};
  if (!Array.isArray(nat)) throw new SignallingError('parameters message nat must be an array of strings');
  return { nat: natTokenList(nat) };
}

/** `lite` of a parameters message (the sender is ice-lite): absent or false is a full agent; else an error. */
function validLite(lite: unknown): { lite?: true } {
  if (lite === undefined || lite === false) return {};
  if (lite !== true) throw new SignallingError('parameters message lite must be a boolean');
  return { lite: true };
}

/** `options` of a parameters message: absent is none; an array of strings, odd tokens dropped; else an error. */
function validOptions(options: unknown): { options?: string[] } {
  if (options === undefined) return {};
  if (!Array.isArray(options) || !options.every((o) => typeof o === 'string')) {
    throw new SignallingError('parameters message options must be an array of strings');
  }
  return { options: iceOptionTags(options) };
}
