/**
 * The hostile harness's processes: a victim agent host, a legitimate peer's agent host and an attacker, each
 * a child process; and the round that has the victim and the peer connect while the victim's ports are
 * attacked.
 */
import type { IceAgentOptions } from '../../../src/index.js';
import type { CreatedAgent, HostStats } from './agent-host.js';
import { RpcChild } from './rpc.js';

/** The three processes of a hostile run. */
export interface HostileProcesses {
  victim: RpcChild;
  peer: RpcChild;
  attacker: RpcChild;
  stop(): Promise<void>;
}

/** Forks the victim, the peer and the attacker. */
export function startProcesses(): HostileProcesses {
  // --expose-gc: heap figures after a full collection, so that a leak is told from garbage not yet collected.
  // HOSTILE_PROFILE_DIR=DIR: the victim writes a CPU profile there on exit (bench/cpuprofile-top.ts reads it)
  const profile = process.env.HOSTILE_PROFILE_DIR;
  const victim = new RpcChild('./agent-host.ts', [
    '--expose-gc',
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
  ]);
  const peer = new RpcChild('./agent-host.ts', ['--expose-gc']);
  const attacker = new RpcChild('./attacker-host.ts');
  return {
    victim,
    peer,
    attacker,
    async stop() {
      await Promise.all([victim.stop(), peer.stop(), attacker.stop()]);
    },
  };
}

/**
 * The victim only listens on its passive port, so the attacked port is the only way in: an attack that locks it
 * out shows as a slow or failed connect. (With S-O on both sides the pair also meets on loopback, through the
 * S-O port's listener between dials, and hides a passive port under siege.)
 */
export const VICTIM_OPTIONS: IceAgentOptions = {
  role: 'controlled',
  tcpTypes: ['passive'],
  connectTimeoutMs: 10_000,
};
/** The legitimate peer dials the victim's passive port. */
export const PEER_OPTIONS: IceAgentOptions = {
  role: 'controlling',
  tcpTypes: ['active'],
  connectTimeoutMs: 10_000,
};

/**
 * The victim of {@link createTarget}: passive and S-O, so that both kinds of listening port are attacked (its
 * S-O port listens between the dials towards the fake peer's closed port).
 */
const TARGET_OPTIONS: IceAgentOptions = { ...VICTIM_OPTIONS, tcpTypes: ['passive', 'so'] };

/** One legitimate connection attempt. */
export interface Round {
  victim: CreatedAgent;
  peer: CreatedAgent;
  /** Slower side's time from its connect() call to the connection. */
  ms: number;
  error: string | undefined;
}

/**
 * Creates a victim agent and a peer agent, lets `beforeConnect` aim an attack at the victim's ports, then
 * exchanges descriptions and connects both. The agents stay open (close them with `closeRound`).
 */
export async function connectRound(
  p: HostileProcesses,
  beforeConnect: (victim: CreatedAgent) => Promise<void> = async () => {},
  victimOptions: IceAgentOptions = VICTIM_OPTIONS,
): Promise<Round> {
  const [victim, peer] = await Promise.all([
    p.victim.call<CreatedAgent>('create', { options: victimOptions }),
    p.peer.call<CreatedAgent>('create', { options: PEER_OPTIONS }),
  ]);
  await beforeConnect(victim);
  await Promise.all([
    p.victim.call('remote', { id: victim.id, lines: peer.lines }),
    p.peer.call('remote', { id: peer.id, lines: victim.lines }),
  ]);
  const [a, b] = await Promise.all([
    p.victim.call<{ ms: number; error?: string }>('connect', { id: victim.id }, 20_000),
    p.peer.call<{ ms: number; error?: string }>('connect', { id: peer.id }, 20_000),
  ]);
  return {
    victim,
    peer,
    ms: Math.max(a.ms, b.ms),
    error: a.error || b.error ? `victim: ${a.error ?? 'ok'}; peer: ${b.error ?? 'ok'}` : undefined,
  };
}

/** Closes both agents of a round. */
export async function closeRound(p: HostileProcesses, r: Round): Promise<void> {
  await Promise.all([p.victim.call('close', { id: r.victim.id }), p.peer.call('close', { id: r.peer.id })]);
}

/** The victim's RSS and fds once its sockets have had `settleMs` to close. */
export async function settledStats(host: RpcChild, settleMs = 300): Promise<HostStats> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return host.call<HostStats>('stats');
}

/**
 * A victim agent that never connects and so keeps its ports open for an attack: checking towards a fake peer
 * whose only candidate is an S-O one at a closed port, so that its S-O port keeps dialling (and listening
 * between dials) for `checkTimeoutMs`.
 */
export async function createTarget(host: RpcChild, closedPort: number): Promise<CreatedAgent> {
  const target = await host.call<CreatedAgent>('create', {
    options: {
      ...TARGET_OPTIONS,
      checkTimeoutMs: 120_000,
      connectTimeoutMs: 300_000,
      remoteEndOfCandidatesTimeoutMs: 300_000,
    },
  });
  await host.call('remote', {
    id: target.id,
    lines: [
      'a=ice-ufrag:fake',
      'a=ice-pwd:fakepassword0123456789abcdef',
      `a=candidate:1 1 TCP 1671430143 127.0.0.1 ${closedPort} typ host tcptype so`,
    ],
  });
  return target;
}

/** The ports of agents an attack aims at. */
export function portsOf(...agents: CreatedAgent[]): number[] {
  return agents.flatMap((a) => [...a.passivePorts, ...a.soPorts]);
}
