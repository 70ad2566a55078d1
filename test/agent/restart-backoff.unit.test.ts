import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../src/agent/auto-restart.js';

describe('autoRestart back-off', () => {
  it('restarts at once, then after 1, 2, 4, ... s, never more than 30 s apart; a recovery starts over', () => {
    const b = new RestartBackoff();
    expect(Array.from({ length: 8 }, () => b.nextDelayMs())).toEqual([
      0, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    b.reset();
    expect(b.nextDelayMs()).toBe(0);
  });
});
