export {
  type DescriptionLine,
  formatDescription,
  type IceDescription,
  parseDescription,
  parseDescriptionLine,
} from '../candidate/description.js';
export { attachSignaller, connectWithSignaller } from './attach.js';
export { createInMemorySignallerPair } from './in-memory.js';
export {
  decodeSignalMessage,
  encodeSignalMessage,
  type Signaller,
  type SignalMessage,
  validateSignalMessage,
} from './messages.js';
export { SdpLineSignaller } from './stdio.js';
export {
  WebSocketSignaller,
  type WebSocketSignallerEvents,
  type WebSocketSignallerOptions,
} from './websocket.js';
