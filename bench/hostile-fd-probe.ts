/**
 * Looks for descriptors an agent leaves behind after a bad-credential flood (issue 8): an agent (passive and
 * S-O) in this process is flooded from this process for a while, then closed; once everything settled the
 * process must have the fds it started with. Prints the leftovers (fd -> TCP state) of each round as JSON.
 * Run: bash -c 'ulimit -n 20000; npx tsx bench/hostile-fd-probe.ts [--rounds 5] [--ms 3000] [--kind badcreds]'
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IceAgent } from '../src/index.js';
import { Attack, type AttackSpec } from '../test/support/hostile/attacker.js';
import { tcpSockets } from '../test/support/hostile/probes.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ms: { type: 'string', default: '3000' },
    kind: { type: 'string', default: 'badcreds' },
  },
});
/** Below the ephemeral range and unused here: dials to it are refused. */
const CLOSED_PORT = 9;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fds(): Map<string, string> {
  const tcp = tcpSockets();
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      out.set(fd, inode ? (tcp.get(inode) ?? target) : target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

for (let round = 0; round < Number(values.rounds); round++) {
  const start = fds();
  const agent = new IceAgent({ addresses: ['127.0.0.1'], tcpTypes: ['passive', 'so'], role: 'controlled' });
  agent.on('error', () => {});
  await agent.gather();
  // as the hostile bench's target: checking towards a closed S-O port, so that our S-O port keeps dialling
  // (and listening between dials) while it is attacked too
  agent.setRemoteDescription([
    'a=ice-ufrag:fake',
    'a=ice-pwd:fakepassword0123456789abcdef',
    `a=candidate:1 1 TCP 1671430143 127.0.0.1 ${CLOSED_PORT} typ host tcptype so`,
  ]);
  const ports = agent
    .localDescription()
    .filter((l) => l.includes('tcptype passive') || l.includes('tcptype so'))
    .map((l) => Number(l.split(' ')[5]));
  const attack = new Attack({
    kind: values.kind as AttackSpec['kind'],
    host: '127.0.0.1',
    ports,
    who: { ufrag: agent.localParameters.ufrag },
    seed: round + 1,
    concurrency: 300,
    connectRate: 5000,
    spreadSources: true,
  });
  await sleep(Number(values.ms));
  // closed under fire, as the bench's rounds are: the attack goes on against the closed ports for a while
  agent.close();
  await sleep(1000);
  const summary = await attack.stop();
  await sleep(3000);
  const end = fds();
  const left = [...end].filter(([fd, what]) => start.get(fd) !== what).map(([fd, what]) => `${fd}->${what}`);
  console.log(
    JSON.stringify({ round, connections: summary.connections, fdsStart: start.size, fdsEnd: end.size, left }),
  );
}
