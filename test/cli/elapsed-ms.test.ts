import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessRuns } from './in-process.js';

const runs = new InProcessRuns();
afterEach(() => runs.settle());

/** How long the peer's credentials arrive before its candidates. */
const GAP_MS = 2000;

describe('ice-tcp connect: elapsedMs of the connected event', () => {
  it("counts from the peer's first parameters, not from the NAT line that re-sends them", async () => {
    const connect = (args: string[]) =>
      runs.start([
        'connect',
        '--bind',
        '127.0.0.1',
        '--timeout',
        '20',
        '--send-bytes',
        '1024',
        '--expect-bytes',
        '1024',
        ...args,
      ]);
    const a = connect(['--controlling']);
    const b = connect(['--controlled']);
    const [la, lb] = await Promise.all([a.localLines(), b.localLines()]);
    const credentials = lb.filter((l) => /^a=ice-(ufrag|pwd):/.test(l));
    const rest = lb.filter((l) => !credentials.includes(l) && l !== 'a=end-of-candidates');
    // the peer's NAT tokens come after its candidates, as attachSignaller sends them once gathering ended
    a.stdin.write(`${credentials.join('\n')}\n`);
    await sleep(GAP_MS);
    a.writeRemote([...rest, 'a=x-ice-tcp-nat:no-nat', 'a=end-of-candidates']);
    b.writeRemote(la);
    const connected = await a.waitFor('connected');
    // nothing could connect before the candidates: GAP_MS is a floor, whatever the machine's load
    expect(Number(connected.elapsedMs)).toBeGreaterThanOrEqual(GAP_MS);
  });
});
