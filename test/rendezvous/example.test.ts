import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const EXAMPLE = new URL('../../examples/rendezvous.ts', import.meta.url).pathname;

describe('examples/rendezvous.ts, the README offer/answer through the rendezvous', () => {
  it('connects an offerer and an answerer through a WebSocket room', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', EXAMPLE], { timeout: 60_000 });
    expect(stdout).toContain('offerer got: HELLO THROUGH THE RENDEZVOUS');
  });
});
