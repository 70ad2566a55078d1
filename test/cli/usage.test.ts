import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { ROOT } from '../support/line-peer.js';
import { runCli } from './run-cli.js';
import { USAGE_ERRORS } from './usage-cases.js';

const finished = async (argv: string[]) => {
  const result = await runCli(argv);
  if (result === 'hung') throw new Error(`ice-tcp ${argv.join(' ')} hung`);
  return result;
};

describe.concurrent('ice-tcp help and version', () => {
  it('--help lists every command, exit 0', async () => {
    const r = await finished(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(name);
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
  for (const [what, argv, reason] of USAGE_ERRORS) {
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
