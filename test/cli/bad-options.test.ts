import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('the CLI refuses an unusable --bind at once (exit 2, one line naming the flag)', () => {
  for (const command of ['connect', 'demo']) {
    it(`${command} --bind nonsense`, async () => {
      const result = await runCli([command, '--bind', 'nonsense'], { ms: 10_000 });
      expect(result).not.toBe('hung');
      if (result === 'hung') return;
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--bind/);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(result.stdout).not.toMatch(/ice-ufrag/); // nothing signalled before failing
    });
  }
});
