#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { IceAgentOptions, StunServerAddress, TurnServerOptions } from './agent/options.js';
import { runConnect } from './cli/connect.js';
import { runDemo } from './cli/demo.js';
import { InvalidArgumentError } from './errors.js';

const USAGE = `ice-tcp — ICE-TCP connectivity (RFC 8445 + RFC 6544)

usage:
  ice-tcp demo [--bytes N] [--bind IP]... [--json]
      two agents in this process: gather, check, nominate, move data both ways
  ice-tcp connect [--controlling|--controlled] [--bind IP]... [--remote FILE|-] [--stun H:P]...
                  [--turn H:P:USER:PASS]... [--force-relay] [--tcp-types active,passive,so]
                  [--send-bytes N] [--expect-bytes N] [--echo] [--timeout S] [--json]
      print our a= lines and a blank line, read the peer's (stdin or FILE), connect, move bytes
  ice-tcp stun-server [--host H] [--port P] [--alt-port P2] [--alt-host H2] [--json]
  ice-tcp natcheck --stun H:P [--stun H2:P2] [--bind IP] [--json]
`;

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} needs a non-negative integer, got ${value}`);
  return n;
}

function hostPort(value: string, what: string): StunServerAddress {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
  if (!m) fail(`${what} needs HOST:PORT, got ${value}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

function turnServer(value: string): TurnServerOptions {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5}):([^:]+):(.+)$/.exec(value);
  if (!m) fail(`--turn needs HOST:PORT:USER:PASS, got ${value}`);
  return { host: m[1] as string, port: Number(m[2]), username: m[3] as string, password: m[4] as string };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      bytes: { type: 'string' },
      bind: { type: 'string', multiple: true },
      controlling: { type: 'boolean', default: false },
      controlled: { type: 'boolean', default: false },
      remote: { type: 'string', default: '-' },
      stun: { type: 'string', multiple: true },
      turn: { type: 'string', multiple: true },
      'force-relay': { type: 'boolean', default: false },
      'tcp-types': { type: 'string' },
      'send-bytes': { type: 'string' },
      'expect-bytes': { type: 'string' },
      echo: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'alt-port': { type: 'string' },
      'alt-host': { type: 'string' },
    },
  });
  switch (command) {
    case 'demo':
      return runDemo({
        json: values.json,
        bytes: int('bytes', values.bytes, 16 * 1024 * 1024),
        addresses: values.bind,
      });
    case 'connect': {
      if (values.controlling && values.controlled) fail('--controlling and --controlled exclude each other');
      const agent: IceAgentOptions = {
        role: values.controlling ? 'controlling' : values.controlled ? 'controlled' : undefined,
        addresses: values.bind,
        stunServers: (values.stun ?? []).map((s) => hostPort(s, '--stun')),
        turnServers: (values.turn ?? []).map(turnServer),
        forceRelay: values['force-relay'],
        connectTimeoutMs: int('timeout', values.timeout, 30) * 1000,
        tcpTypes: values['tcp-types']?.split(',') as IceAgentOptions['tcpTypes'],
      };
      return runConnect({
        agent,
        remote: values.remote,
        sendBytes: int('send-bytes', values['send-bytes'], 0),
        expectBytes: int('expect-bytes', values['expect-bytes'], 0),
        echo: values.echo,
      });
    }
    case 'stun-server': {
      const { runStunServer } = await import('./cli/stun-server.js');
      return runStunServer({
        host: values.host ?? '0.0.0.0',
        port: int('port', values.port, 3478),
        alternatePort: values['alt-port'] === undefined ? undefined : int('alt-port', values['alt-port'], 0),
        alternateHost: values['alt-host'],
        json: values.json,
      });
    }
    case 'natcheck': {
      const { runNatcheck } = await import('./cli/natcheck.js');
      const servers = (values.stun ?? []).map((s) => hostPort(s, '--stun'));
      if (servers.length === 0) fail('natcheck needs --stun HOST:PORT');
      return runNatcheck({ servers, bind: values.bind?.[0], json: values.json });
    }
    default:
      fail(`unknown command ${command}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    if (process.argv.includes('--json')) {
      process.stdout.write(
        `${JSON.stringify({ event: 'error', code: e.code ?? 'ERR_UNKNOWN', message: e.message })}\n`,
      );
    } else {
      process.stderr.write(`ice-tcp: ${e.message ?? String(err)}\n`);
    }
    // usage errors (ours, or node:util parseArgs's ERR_PARSE_ARGS_*) exit 2, like other Unix tools
    const usage = e.code === 'ERR_INVALID_ARGUMENT' || e.code?.startsWith('ERR_PARSE_ARGS_') === true;
    process.exitCode = usage ? 2 : 1;
  },
);
