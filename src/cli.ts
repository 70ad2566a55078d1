#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { type CliCommand, commandHelp, parseCommand, usageError } from './cli/args.js';
import { COMMANDS } from './cli/commands.js';
import { InvalidArgumentError } from './errors.js';

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
  // dist/cli.js and src/cli.ts both sit one level below package.json
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `rendezvous` ships in its own module (src/cli/rendezvous.ts, exporting `rendezvousCommand`). */
async function optionalCommand(name: string): Promise<CliCommand> {
  const specifier = `./cli/${name}.js`;
  try {
    const mod = (await import(specifier)) as { rendezvousCommand?: CliCommand };
    if (mod.rendezvousCommand) return mod.rendezvousCommand;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
  throw new InvalidArgumentError(`${name} is not available in this build of ice-tcp`);
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  let name = first;
  let args = rest;
  if (first === 'tunnel') {
    const [sub, ...tail] = rest;
    if (sub === 'serve' || sub === 'connect') {
      name = `tunnel ${sub}`;
      args = tail;
    } else if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(
        `${commandHelp(COMMANDS['tunnel serve']!.spec)}\n${commandHelp(COMMANDS['tunnel connect']!.spec)}`,
      );
      return sub === undefined ? 2 : 0;
    } else {
      usageError('tunnel', `unknown subcommand ${sub}: use tunnel serve or tunnel connect`);
    }
  }
  if (first.startsWith('-'))
    throw new InvalidArgumentError(`a command comes first, got ${first} (see ice-tcp --help)`);
  const command = COMMANDS[name] ?? (name === 'rendezvous' ? await optionalCommand(name) : undefined);
  if (!command) throw new InvalidArgumentError(`unknown command ${name} (see ice-tcp --help)`);
  const { values, positionals } = parseCommand(command.spec, args);
  if (values.help) {
    process.stdout.write(commandHelp(command.spec));
    return 0;
  }
  return command.run(values, positionals);
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
    // usage errors exit 2, like other Unix tools; anything else that escaped a command is a failure
    process.exitCode = e.code === 'ERR_INVALID_ARGUMENT' ? 2 : 1;
  },
);
