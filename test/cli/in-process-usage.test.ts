import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { ROOT } from '../support/line-peer.js';
import { runInProcess } from './in-process.js';
import { MORE_USAGE_ERRORS, USAGE_ERRORS } from './usage-cases.js';

// The same contract as usage.test.ts (which runs the binary), run in this process so that coverage sees it.

describe('ice-tcp help and version, in process', () => {
  it('no command: the usage on stderr, exit 2', async () => {
    const r = await runInProcess([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage: ice-tcp <command>/m);
  });

  for (const flag of ['--help', '-h', 'help']) {
    it(`${flag} lists every command on stdout, exit 0`, async () => {
      const r = await runInProcess([flag]);
      expect(r.code).toBe(0);
      for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(name);
    });
  }

  for (const flag of ['--version', '-v']) {
    it(`${flag} prints the package version`, async () => {
      const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
      const r = await runInProcess([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    });
  }

  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`${name} --help describes every option, exit 0`, async () => {
      const r = await runInProcess([...name.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: ice-tcp ${name} [options]`);
      for (const [flag, spec] of Object.entries(command.spec.flags)) {
        expect(r.stdout, `--${flag} in ${name} --help`).toMatch(new RegExp(`^ {2}--${flag}\\b`, 'm'));
        expect(r.stdout).toContain(spec.description.split('\n')[0]);
      }
    });
  }

  it('--help wins over a stray argument', async () => {
    const r = await runInProcess(['natcheck', 'extra', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: ice-tcp natcheck');
  });

  it('tunnel alone prints both subcommands and exits 2; tunnel --help exits 0', async () => {
    const alone = await runInProcess(['tunnel']);
    const help = await runInProcess(['tunnel', '--help']);
    expect(alone.code).toBe(2);
    expect(help.code).toBe(0);
    for (const r of [alone, help]) {
      expect(r.stdout).toContain('usage: ice-tcp tunnel serve');
      expect(r.stdout).toContain('usage: ice-tcp tunnel connect');
    }
  });
});

describe('ice-tcp usage errors, in process: exit 2, one line naming the flag', () => {
  for (const [what, argv, reason] of [...USAGE_ERRORS, ...MORE_USAGE_ERRORS]) {
    it(what, async () => {
      const r = await runInProcess(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).toMatch(/^ice-tcp: [^\n]+\n$/);
      expect(r.stderr).not.toMatch(/connectTimeoutMs|tcpTypes|forceRelay|\n\s+at /);
      // nothing signalled before failing
      expect(r.stdout).toBe('');
    });
  }

  it('with --json the usage error is one JSON line on stdout', async () => {
    const r = await runInProcess(['stun-server', '--json', '--port', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      event: 'error',
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/^stun-server: --port needs an integer from 0 to 65535, got x/),
    });
  });
});
