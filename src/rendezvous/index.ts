export { type RendezvousOptions, resolveRendezvousOptions } from './options.js';
export { type RunRendezvousIo, runRendezvous } from './run.js';
export { RendezvousServer } from './server.js';
