/**
 * `ice-tcp/framing`: the stream framings of ICE-TCP, for peers written without the agent (a raw RFC 4571
 * endpoint, a test double, a proxy): RFC 4571 length-prefixed frames as every check and packet between
 * peers travels, the splitter for unframed STUN over TCP as spoken to STUN and TURN servers, and RFC 7983
 * classification of a frame's payload. Its errors (`FrameTooLargeError`, ...) are exported from `ice-tcp`.
 */

export { classifyPayload, isStunFrame, type PayloadKind } from './demux.js';
export {
  encodeFrame,
  type FrameSink,
  frameHeader,
  MAX_FRAME_SIZE,
  Rfc4571Deframer,
  type Rfc4571DeframerOptions,
} from './rfc4571.js';
export {
  DEFAULT_MAX_STUN_MESSAGE_SIZE,
  StunStreamSplitter,
  type StunStreamSplitterOptions,
} from './stun-splitter.js';
