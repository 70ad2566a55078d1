import { candidatePriority } from '../../src/candidate/priority.js';
import type { Candidate, TcpType } from '../../src/candidate/types.js';
import type { Checklist, ChecklistAction, LocalCandidate } from '../../src/checklist/index.js';

/** One agent of the simulation: its checklist and the candidates it owns. */
export interface SimAgent {
  name: string;
  list: Checklist;
  locals: LocalCandidate[];
}

/** One end of a simulated TCP connection, as that agent sees it. */
interface ConnectionEnd {
  agent: SimAgent;
  localCandidateId: string;
  remoteAddress: string;
  remotePort: number;
  remoteTcpType: TcpType;
}

/** A simulated TCP connection between two agents. */
export interface SimConnection {
  id: number;
  ends: [ConnectionEnd, ConnectionEnd];
}

/**
 * A tiny in-memory network with a fake clock: `check` actions become `onIncomingCheck` on the other agent one
 * latency later and the answer comes back one latency after that. An active candidate dials a passive one
 * from an ephemeral port, so the listener sees a peer-reflexive active source; S-O candidates meet on their
 * own ports. Addresses in `unreachable` refuse connections.
 */
export class SimNetwork {
  now = 0;
  readonly connectionOfPair = new Map<string, SimConnection>();
  private readonly events: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  private nextEphemeralPort = 60000;
  private nextConnectionId = 1;
  private readonly soConnections = new Map<string, SimConnection>();

  constructor(
    private readonly agents: readonly SimAgent[],
    private readonly latencyMs: number,
    private readonly unreachable: ReadonlySet<string> = new Set(),
  ) {}

  /** Runs `run` at time `at`. */
  at(at: number, run: () => void): void {
    this.events.push({ at, seq: this.seq++, run });
  }

  /** Runs the simulation until `done()` or `untilMs`; throws on a busy loop (a wake-up that never advances). */
  run(done: () => boolean, untilMs: number): void {
    let pollsAtSameTime = 0;
    let lastNow = -1;
    while (!done() && this.now <= untilMs) {
      this.runDueEvents();
      for (const agent of this.agents) {
        for (const action of agent.list.poll(this.now)) this.execute(agent, action);
      }
      const next = this.nextTime();
      if (next === undefined) return;
      this.now = Math.max(this.now, next);
      pollsAtSameTime = this.now === lastNow ? pollsAtSameTime + 1 : 0;
      if (pollsAtSameTime > 100) throw new Error(`busy loop at t=${this.now}`);
      lastNow = this.now;
    }
  }

  /** The connection an agent's pair runs on. */
  connectionOf(agent: SimAgent, pairId: string): SimConnection | undefined {
    return this.connectionOfPair.get(`${agent.name}:${pairId}`);
  }

  private runDueEvents(): void {
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (this.events[0] && this.events[0].at <= this.now) this.events.shift()!.run();
  }

  private nextTime(): number | undefined {
    const times = [
      ...this.events.map((e) => e.at),
      ...this.agents.map((a) => a.list.nextWakeup()).filter((t): t is number => t !== undefined),
    ];
    return times.length === 0 ? undefined : Math.min(...times);
  }

  private execute(agent: SimAgent, action: ChecklistAction): void {
    if (action.type !== 'check') return;
    const pair = agent.list.getPair(action.pairId);
    if (!pair) throw new Error(`${agent.name} checks unknown pair ${action.pairId}`);
    const connection = this.connectionOf(agent, pair.id) ?? this.dial(agent, pair.local, pair.remote);
    const sentAt = this.now;
    if (!connection) {
      this.at(sentAt + this.latencyMs, () => agent.list.onCheckFailure(pair.id, this.now, 'ECONNREFUSED'));
      return;
    }
    this.connectionOfPair.set(`${agent.name}:${pair.id}`, connection);
    const far = connection.ends[0].agent === agent ? connection.ends[1] : connection.ends[0];
    const role = agent.list.role;
    const tieBreaker = agent.list.tieBreaker;
    this.at(sentAt + this.latencyMs, () => {
      const result = far.agent.list.onIncomingCheck(
        {
          localCandidateId: far.localCandidateId,
          remoteAddress: far.remoteAddress,
          remotePort: far.remotePort,
          remoteTcpType: far.remoteTcpType,
          priority: candidatePriority({ type: 'prflx', tcpType: pair.local.tcpType, otherPreference: 0 }),
          useCandidate: action.useCandidate,
          ...(role === 'controlling' ? { iceControlling: tieBreaker } : { iceControlled: tieBreaker }),
        },
        this.now,
      );
      if (result.response === 'success') {
        this.connectionOfPair.set(`${far.agent.name}:${result.pairId}`, connection);
        this.at(this.now + this.latencyMs, () => agent.list.onCheckSuccess(pair.id, this.now));
      } else {
        this.at(this.now + this.latencyMs, () => agent.list.onRoleConflict(pair.id, this.now));
      }
    });
  }

  /** Opens a connection the way the local candidate's tcptype allows, or returns undefined when refused. */
  private dial(agent: SimAgent, local: LocalCandidate, remote: Candidate): SimConnection | undefined {
    if (this.unreachable.has(remote.address)) return undefined;
    const far = this.agents
      .filter((a) => a !== agent)
      .flatMap((a) => a.locals.map((c) => ({ agent: a, candidate: c })))
      .find(
        ({ candidate }) =>
          candidate.address === remote.address &&
          candidate.port === remote.port &&
          candidate.tcpType === remote.tcpType,
      );
    if (!far) return undefined;
    if (local.tcpType === 'active' && remote.tcpType === 'passive') {
      const port = this.nextEphemeralPort++;
      return {
        id: this.nextConnectionId++,
        ends: [
          {
            agent,
            localCandidateId: local.id,
            remoteAddress: remote.address,
            remotePort: remote.port,
            remoteTcpType: 'passive',
          },
          {
            agent: far.agent,
            localCandidateId: far.candidate.id,
            remoteAddress: local.baseAddress,
            remotePort: port,
            remoteTcpType: 'active',
          },
        ],
      };
    }
    if (local.tcpType === 'so' && remote.tcpType === 'so') {
      // both sides dialling the same two S-O ports meet in one connection (simultaneous open)
      const key = [
        `${local.baseAddress}:${local.basePort}`,
        `${far.candidate.baseAddress}:${far.candidate.basePort}`,
      ]
        .sort()
        .join('~');
      let connection = this.soConnections.get(key);
      if (!connection) {
        connection = {
          id: this.nextConnectionId++,
          ends: [
            {
              agent,
              localCandidateId: local.id,
              remoteAddress: remote.address,
              remotePort: remote.port,
              remoteTcpType: 'so',
            },
            {
              agent: far.agent,
              localCandidateId: far.candidate.id,
              remoteAddress: local.address,
              remotePort: local.port,
              remoteTcpType: 'so',
            },
          ],
        };
        this.soConnections.set(key, connection);
      }
      return connection;
    }
    return undefined;
  }
}
