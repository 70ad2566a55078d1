import type { IceAgentOptions, TurnServerOptions } from '../agent/options.js';
import type { TcpType } from '../candidate/types.js';
import {
  bindValues,
  type FlagSpec,
  type FlagValues,
  hostPortValue,
  intFlag,
  listFlag,
  stringFlag,
  usageError,
} from './args.js';
import { RENDEZVOUS_URL } from './rendezvous-hook.js';

/** Flags of the agent and of signalling, shared by `connect` and `tunnel`. */
export const AGENT_FLAGS: Record<string, FlagSpec> = {
  controlling: { type: 'boolean', description: 'take the controlling role (nominates the pair)' },
  controlled: { type: 'boolean', description: 'take the controlled role' },
  bind: {
    type: 'string',
    multiple: true,
    value: 'IP',
    description: 'gather on this local IP only (default: every non-loopback address)',
  },
  stun: {
    type: 'string',
    multiple: true,
    value: 'HOST:PORT',
    description: 'STUN server for server-reflexive and predicted candidates',
  },
  turn: {
    type: 'string',
    multiple: true,
    value: 'HOST:PORT:USER:PASS',
    description: 'TURN server (TCP allocation, RFC 6062) for relayed candidates',
  },
  'force-relay': { type: 'boolean', description: 'offer and use relayed candidates only' },
  'tcp-types': {
    type: 'string',
    value: 'LIST',
    description: 'comma-separated subset of active,passive,so (default: all three)',
  },
  'consent-interval': {
    type: 'string',
    value: 'MS',
    description: 'mean pause between consent checks on the connected pair, ±20 % (default 5000)',
  },
  'consent-timeout': {
    type: 'string',
    value: 'MS',
    description: 'consent expires this long after the last answer: the connection fails (default 30000)',
  },
  timeout: {
    type: 'string',
    value: 'SECONDS',
    description: 'give up connecting after this many seconds (default 30)',
  },
  remote: {
    type: 'string',
    value: 'FILE',
    description: "read the peer's a= lines from FILE (waits for it to appear; - = stdin, the default)",
  },
  rendezvous: {
    type: 'string',
    value: 'URL',
    description:
      'signal through a rendezvous room (ws://host:port/room) instead of copy-paste; secret in $ICE_TCP_RENDEZVOUS_TOKEN',
  },
};

/** Where a session's signalling goes: `--remote` (`-`, stdin, by default) or `--rendezvous`. */
export interface SignallingFlags {
  remote: string;
  rendezvous?: string;
}

/** `--remote` and `--rendezvous`, checked before anything is printed: a bad URL is a usage error (exit 2). */
export function signallingFlags(command: string, values: FlagValues): SignallingFlags {
  const remote = stringFlag(values, 'remote');
  const rendezvous = stringFlag(values, 'rendezvous');
  if (rendezvous === undefined) return { remote: remote ?? '-' };
  if (remote !== undefined) usageError(command, '--remote and --rendezvous exclude each other');
  if (!RENDEZVOUS_URL.test(rendezvous)) {
    usageError(command, `--rendezvous needs ws://HOST:PORT/ROOM, got ${rendezvous}`);
  }
  return { remote: '-', rendezvous };
}

const TCP_TYPES: readonly TcpType[] = ['active', 'passive', 'so'];

function turnValue(command: string, value: string): TurnServerOptions {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5}):([^:]+):(.+)$/.exec(value);
  if (!m) usageError(command, `--turn needs HOST:PORT:USER:PASS, got ${value}`);
  return { host: m[1] as string, port: Number(m[2]), username: m[3] as string, password: m[4] as string };
}

/**
 * Agent options from the shared flags. Every value is checked here, so an error names the flag the user typed
 * (`--timeout`), never the option it becomes (`connectTimeoutMs`).
 */
export function agentOptions(
  command: string,
  values: FlagValues,
  defaultRole?: 'controlling' | 'controlled',
): IceAgentOptions {
  if (values.controlling && values.controlled) {
    usageError(command, '--controlling and --controlled exclude each other');
  }
  const tcpTypes = stringFlag(values, 'tcp-types')?.split(',');
  for (const t of tcpTypes ?? []) {
    if (!TCP_TYPES.includes(t as TcpType)) {
      usageError(command, `--tcp-types takes active, passive and so, got ${t || '(empty)'}`);
    }
  }
  if (values['force-relay'] && listFlag(values, 'turn').length === 0) {
    usageError(command, '--force-relay needs at least one --turn server');
  }
  const role = values.controlling ? 'controlling' : values.controlled ? 'controlled' : defaultRole;
  const consentIntervalMs = intFlag(command, values, 'consent-interval', 5000, 10, 3_600_000);
  const consentTimeoutMs = intFlag(command, values, 'consent-timeout', 30_000, 10, 86_400_000);
  if (consentTimeoutMs < consentIntervalMs) {
    usageError(command, `--consent-timeout must be at least --consent-interval (${consentIntervalMs})`);
  }
  return {
    role,
    addresses: bindValues(command, values.bind as string[] | undefined),
    stunServers: listFlag(values, 'stun').map((s) => hostPortValue(command, 'stun', s)),
    turnServers: listFlag(values, 'turn').map((s) => turnValue(command, s)),
    forceRelay: values['force-relay'] === true,
    connectTimeoutMs: intFlag(command, values, 'timeout', 30, 1, 86_400) * 1000,
    tcpTypes: tcpTypes as TcpType[] | undefined,
    consentIntervalMs,
    consentTimeoutMs,
  };
}
