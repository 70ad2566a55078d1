/** The STUN codec as the rest of src/ imports it: the same names as the public `ice-tcp/stun` entry. */
export * from './public.js';
