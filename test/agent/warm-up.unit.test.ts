import { describe, expect, it } from 'vitest';
import { warmUpCheckPath } from '../../src/agent/warm-up.js';

describe('warmUpCheckPath', () => {
  it('runs a check round of each role to nomination, once per process', async () => {
    // 'completed': the whole path ran (checks, answers, nomination), so the code a first connect needs is compiled
    expect(await warmUpCheckPath()).toEqual(['completed', 'completed', 'aborted']);
    expect(await warmUpCheckPath()).toBeUndefined();
  });
});
