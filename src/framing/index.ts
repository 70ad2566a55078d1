/** Stream framing as the rest of src/ imports it: the public `ice-tcp/framing` names, plus internal helpers. */
export { mayBeStunFrame } from './demux.js';
export * from './public.js';
