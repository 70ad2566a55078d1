/** Stream framing: RFC 4571 frames, unframed STUN splitting, payload demultiplexing. */
export { classifyPayload, isStunFrame, mayBeStunFrame, type PayloadKind } from './demux.js';
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
