import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { ROOT } from '../support/line-peer.js';
import { runCli } from './run-cli.js';

const finished = async (argv: string[]) => {
  const result = await runCli(argv);
  if (result === 'hung') throw new Error(`ice-tcp ${argv.join(' ')} hung`);
  return result;
};

describe.concurrent('ice-tcp help and version', () => {
  it('--help lists every command, exit 0', async () => {
    const r = await finished(['--help']);
    expect(r.code).toBe(0);
    for (const name of [...Object.keys(COMMANDS), 'rendezvous']) expect(r.stdout).toContain(name);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const r = await finished(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  // before: `Unknown option '--help'`, exit 2, for every command
  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`${name} --help describes every option, exit 0`, async () => {
      const r = await finished([...name.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: ice-tcp ${name}`);
      for (const [flag, spec] of Object.entries(command.spec.flags)) {
        const line = r.stdout
          .split('\n')
          .find((l) => l.trimStart().startsWith(`--${flag} `) || l.trim() === `--${flag}`);
        expect(line, `--${flag} in ${name} --help`).toBeDefined();
        expect(r.stdout).toContain(spec.description);
      }
    });
  }
});

describe.concurrent('ice-tcp rejects what it cannot use, in CLI terms (exit 2, one line)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    // before: accepted silently, exit 0
    [
      'flags of other commands',
      ['demo', '--stun', '1.2.3.4:3478', '--echo', '--port', '5'],
      /unknown option --stun/,
    ],
    [
      'a stun-server flag on connect',
      ['connect', '--max-connections', '5'],
      /unknown option --max-connections/,
    ],
    // before: "connectTimeoutMs must be ..."
    ['--timeout 0', ['connect', '--timeout', '0'], /--timeout needs/],
    ['a bad --tcp-types', ['connect', '--tcp-types', 'active,udp'], /--tcp-types/],
    ['--force-relay without --turn', ['connect', '--force-relay'], /--force-relay needs/],
    ['a missing value', ['connect', '--send-bytes'], /--send-bytes needs a value/],
    ['a stray argument', ['natcheck', 'extra', '--stun', '127.0.0.1:1'], /unexpected argument extra/],
    ['an unknown command', ['frobnicate'], /unknown command frobnicate/],
    ['tunnel serve without --forward', ['tunnel', 'serve'], /needs --forward/],
    [
      'tunnel connect with a bad --listen',
      ['tunnel', 'connect', '--listen', 'nowhere'],
      /--listen needs HOST:PORT/,
    ],
    ['an unknown tunnel subcommand', ['tunnel', 'expose'], /unknown subcommand expose/],
  ];
  for (const [what, argv, reason] of cases) {
    it(what, async () => {
      const r = await finished(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/connectTimeoutMs|tcpTypes|forceRelay|\n\s+at /);
      expect(r.stdout).not.toMatch(/ice-ufrag/);
    });
  }
});
