import type { StunServerOptions } from '../server/options.js';
import { AGENT_FLAGS, agentOptions, signallingFlags } from './agent-flags.js';
import {
  bindValues,
  type CliCommand,
  type FlagValues,
  hostPortValue,
  intFlag,
  listFlag,
  stringFlag,
  usageError,
} from './args.js';
import { rendezvousCommand } from './rendezvous.js';
import { tunnelConnect, tunnelServe } from './tunnel.js';

const demo: CliCommand = {
  spec: {
    name: 'demo',
    summary: 'Two agents in this process: gather, check, nominate, then move data both ways.',
    flags: {
      bytes: {
        type: 'string',
        value: 'N',
        description: 'bytes to move each way (default 16777216; 0 = none)',
      },
      bind: {
        type: 'string',
        multiple: true,
        value: 'IP',
        description: 'gather on this IP (default 127.0.0.1)',
      },
    },
  },
  async run(values, _positionals, io) {
    const { runDemo } = await import('./demo.js');
    return runDemo({
      io,
      json: values.json === true,
      bytes: intFlag('demo', values, 'bytes', 16 * 1024 * 1024),
      addresses: bindValues('demo', values.bind as string[] | undefined),
    });
  },
};

const connect: CliCommand = {
  spec: {
    name: 'connect',
    summary:
      "Print our a= lines and a blank line, read the peer's (stdin, --remote FILE or --rendezvous URL),\nconnect, then move test bytes, or with no transfer flag bridge stdin and stdout (netcat style).",
    flags: {
      ...AGENT_FLAGS,
      'send-bytes': { type: 'string', value: 'N', description: 'send N bytes of the test pattern, then end' },
      'expect-bytes': {
        type: 'string',
        value: 'N',
        description: 'receive N bytes (fails if the peer ends before); with --sha256 report their hash',
      },
      echo: { type: 'boolean', description: 'write back every byte received until the peer ends' },
      sha256: {
        type: 'boolean',
        description: 'report the SHA-256 of the bytes received (off: it costs CPU)',
      },
    },
    notes:
      'Without --send-bytes, --expect-bytes or --echo, what follows the blank line after the pasted a= lines\n' +
      "on stdin is sent to the peer, and the peer's bytes are written to stdout; reports go to stderr. The\n" +
      'command exits once both directions have ended. Exit codes: 0 done, 1 failure, 2 usage error.',
  },
  async run(values, _positionals, io) {
    if (values.echo && values['send-bytes'] !== undefined) {
      usageError('connect', '--echo and --send-bytes exclude each other');
    }
    const agent = agentOptions('connect', values);
    const signalling = signallingFlags('connect', values);
    const sendBytes = intFlag('connect', values, 'send-bytes', 0);
    const expectBytes = intFlag('connect', values, 'expect-bytes', 0);
    const { runConnect } = await import('./connect.js');
    return runConnect({
      io,
      agent,
      ...signalling,
      sendBytes,
      expectBytes,
      echo: values.echo === true,
      sha256: values.sha256 === true,
      json: values.json === true,
    });
  },
};

/** `ice-tcp stun-server`'s policy flags; a value that cannot work names its flag in the usage error. */
function stunServerPolicy(values: FlagValues): Omit<StunServerOptions, 'host' | 'port'> {
  const positive = (flag: string, integer = true): number | undefined => {
    const value = values[flag];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!(integer ? Number.isInteger(n) : Number.isFinite(n)) || n < 1) {
      usageError(
        'stun-server',
        `--${flag} needs ${integer ? 'a positive integer' : 'a number >= 1'}, got ${String(value)}`,
      );
    }
    return n;
  };
  return {
    maxConnections: positive('max-connections'),
    maxConnectionsPerIp: positive('max-connections-per-ip'),
    requestTimeoutMs: positive('request-timeout-ms'),
    idleTimeoutMs: positive('idle-timeout-ms'),
    udpAmplificationLimit: positive('udp-amplification', false),
    software: stringFlag(values, 'software'),
  };
}

const stunServer: CliCommand = {
  spec: {
    name: 'stun-server',
    summary:
      'STUN Binding over TCP and UDP until SIGINT/SIGTERM. At a connection cap the stalest connection is\nreset, never the newest.',
    flags: {
      host: { type: 'string', value: 'IP', description: 'address to listen on (default 0.0.0.0)' },
      port: {
        type: 'string',
        value: 'PORT',
        description: 'port to listen on (default 3478; 0 = any free port)',
      },
      'alt-port': {
        type: 'string',
        value: 'PORT',
        description: 'second port, advertised as OTHER-ADDRESS (RFC 5780)',
      },
      'alt-host': { type: 'string', value: 'IP', description: 'second address, advertised as OTHER-ADDRESS' },
      'max-connections': {
        type: 'string',
        value: 'N',
        description: 'TCP connections at once (default 1024)',
      },
      'max-connections-per-ip': {
        type: 'string',
        value: 'N',
        description: 'TCP connections per source IP or IPv6 /64 (default 64)',
      },
      'request-timeout-ms': {
        type: 'string',
        value: 'MS',
        description: 'reset a connection with no complete request this long after accept (default 3000)',
      },
      'idle-timeout-ms': {
        type: 'string',
        value: 'MS',
        description: 'reset a connection idle this long after its last request (default 30000)',
      },
      'udp-amplification': {
        type: 'string',
        value: 'X',
        description: 'largest UDP response as a multiple of its request (default 3)',
      },
      software: { type: 'string', value: 'TEXT', description: 'SOFTWARE attribute of responses' },
    },
  },
  async run(values, _positionals, io) {
    const { runStunServer } = await import('./stun-server.js');
    return runStunServer({
      io,
      host: stringFlag(values, 'host') ?? '0.0.0.0',
      port: intFlag('stun-server', values, 'port', 3478, 0, 65535),
      alternatePort:
        values['alt-port'] === undefined
          ? undefined
          : intFlag('stun-server', values, 'alt-port', 0, 0, 65535),
      alternateHost: stringFlag(values, 'alt-host'),
      json: values.json === true,
      policy: stunServerPolicy(values),
    });
  },
};

const natcheck: CliCommand = {
  spec: {
    name: 'natcheck',
    summary:
      "Probe this host's NAT over TCP: mapping, port preservation, allocation, and what it means for ICE.",
    flags: {
      stun: {
        type: 'string',
        multiple: true,
        value: 'HOST:PORT',
        description:
          "STUN server (required; a second one, or the first one's OTHER-ADDRESS, tests the mapping)",
      },
      bind: { type: 'string', multiple: true, value: 'IP', description: 'probe from this local IP' },
    },
  },
  async run(values, _positionals, io) {
    const servers = listFlag(values, 'stun').map((s) => hostPortValue('natcheck', 'stun', s));
    if (servers.length === 0) usageError('natcheck', 'needs --stun HOST:PORT');
    const bind = bindValues('natcheck', values.bind as string[] | undefined)?.[0];
    const { runNatcheck } = await import('./natcheck.js');
    return runNatcheck({ io, servers, bind, json: values.json === true });
  },
};

/** The commands of `ice-tcp` by name as typed (tunnel has two subcommands, see src/cli/tunnel.ts). */
export const COMMANDS: Record<string, CliCommand> = {
  demo,
  connect,
  'stun-server': stunServer,
  natcheck,
  'tunnel serve': tunnelServe,
  'tunnel connect': tunnelConnect,
  rendezvous: rendezvousCommand,
};
