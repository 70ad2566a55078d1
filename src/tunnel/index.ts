export {
  FrameParser,
  FrameType,
  type FrameTypeValue,
  HEADER_SIZE,
  MAX_DATA,
  type MuxFrame,
} from './frames.js';
export { Mux, type MuxEvents, type MuxOptions } from './mux.js';
export { INITIAL_WINDOW, MuxStream } from './mux-stream.js';
