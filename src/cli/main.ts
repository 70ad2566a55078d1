import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { commandHelp, parseCommand, usageError } from './args.js';
import { COMMANDS } from './commands.js';
import type { CliIo } from './io.js';

const USAGE = `ice-tcp — ICE-TCP connectivity (RFC 8445 + RFC 6544)

usage: ice-tcp <command> [options]        ice-tcp <command> --help for its options

commands:
  demo            two agents in this process: gather, check, nominate, move data both ways
  connect         copy-paste a= lines with a peer, connect, move test bytes or bridge stdin/stdout
  tunnel serve    behind the NAT: forward each tunnelled TCP connection to --forward HOST:PORT
  tunnel connect  on the client: accept TCP connections on --listen HOST:PORT, tunnel each one
  stun-server     STUN Binding server over TCP and UDP
  natcheck        probe this host's NAT over TCP and say what ICE-TCP can do through it
  rendezvous      WebSocket signalling server with rooms

options:
  --help          print this help (or a command's, after the command)
  --version       print the version of ice-tcp
`;

function version(): string {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below package.json
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `tunnel` alone or with --help: both subcommands' help. Returns the command's name and arguments otherwise. */
function tunnelCommand(io: CliIo, rest: string[]): number | { name: string; args: string[] } {
  const [sub, ...tail] = rest;
  if (sub === 'serve' || sub === 'connect') return { name: `tunnel ${sub}`, args: tail };
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(
      `${commandHelp(COMMANDS['tunnel serve']!.spec)}\n${commandHelp(COMMANDS['tunnel connect']!.spec)}`,
    );
    return sub === undefined ? 2 : 0;
  }
  usageError('tunnel', `unknown subcommand ${sub}: use tunnel serve or tunnel connect`);
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(USAGE);
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first.startsWith('-'))
    throw new InvalidArgumentError(`a command comes first, got ${first} (see ice-tcp --help)`);
  const tunnel = first === 'tunnel' ? tunnelCommand(io, rest) : { name: first, args: rest };
  if (typeof tunnel === 'number') return tunnel;
  const command = COMMANDS[tunnel.name];
  if (!command) throw new InvalidArgumentError(`unknown command ${tunnel.name} (see ice-tcp --help)`);
  const { values, positionals } = parseCommand(command.spec, tunnel.args);
  if (values.help) {
    io.stdout.write(commandHelp(command.spec));
    return 0;
  }
  return command.run(values, positionals, io);
}

/**
 * Runs `ice-tcp <argv>` with `io` and resolves with the exit code; never rejects. What escapes a command is
 * printed as one line (JSON on stdout with `--json`, else on stderr): exit 2 for a usage error, 1 otherwise.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (argv.includes('--json')) {
      io.stdout.write(
        `${JSON.stringify({ event: 'error', code: e.code ?? 'ERR_UNKNOWN', message: e.message })}\n`,
      );
    } else {
      io.stderr.write(`ice-tcp: ${e.message ?? String(err)}\n`);
    }
    // usage errors exit 2, like other Unix tools; anything else that escaped a command is a failure
    return e.code === 'ERR_INVALID_ARGUMENT' ? 2 : 1;
  }
}
