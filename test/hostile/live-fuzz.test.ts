import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/coturn.js';
import type { CreatedAgent, HostStats, ReceivedSummary, SentSummary } from '../support/hostile/agent-host.js';
import type { AttackSpec, AttackSummary } from '../support/hostile/attacker.js';
import {
  closeRound,
  connectRound,
  createTarget,
  type HostileProcesses,
  portsOf,
  settledStats,
  startProcesses,
} from '../support/hostile/harness.js';
import { HOSTILE_TURN, type HostileServerSummary } from '../support/hostile/hostile-server.js';
import { evilDescription, type ResponderSummary } from '../support/hostile/responder.js';
import { type CrashReport, distinctCrashes } from '../support/hostile/rpc.js';

/**
 * Issue 8, "Prove it": hostile bytes fed to a live agent in its own process (so that a crash is seen, not
 * suffered): mutated RFC 4571 frames on its passive and S-O ports from strangers and from a peer that knows
 * its password, while and after a legitimate peer connects; then hostile payloads as packets and as stream
 * data on a connected pair. Replay a failure with HOSTILE_SEED=<seed>.
 */
const SEED = Number(process.env.HOSTILE_SEED ?? 8);
const FDS_SLACK = 4;

function crashText(crashes: readonly CrashReport[]): string {
  return distinctCrashes(crashes)
    .map((c) => `${c.count}x ${c.kind}: ${c.stack.split('\n').slice(0, 8).join('\n')}`)
    .join('\n---\n');
}

let p: HostileProcesses;
let baseline: HostStats;
/** Crashes counted before the current test, so that each test answers only for its own input. */
let marks = { victim: 0, peer: 0 };

function newVictimCrashes(): string {
  return crashText(p.victim.crashes.slice(marks.victim));
}

function newCrashes(): string {
  return crashText([...p.victim.crashes.slice(marks.victim), ...p.peer.crashes.slice(marks.peer)]);
}

beforeAll(async () => {
  p = startProcesses();
  // One round first, so that what Node opens once (epoll, the thread pool's pipes) is in the baseline.
  const warm = await connectRound(p);
  expect(warm.error).toBeUndefined();
  await closeRound(p, warm);
  baseline = await settledStats(p.victim);
});

beforeEach(() => {
  marks = { victim: p.victim.crashes.length, peer: p.peer.crashes.length };
});

afterAll(async () => {
  await p?.stop();
});

describe(`a live agent under hostile input (seed ${SEED})`, () => {
  it('survives mutated frames on its ports; a legitimate peer connects during the attack and after; no fd leaks', async () => {
    const closed = await freePort('127.0.0.1');
    const [stranger, knowing] = await Promise.all([
      createTarget(p.victim, closed),
      createTarget(p.victim, closed),
    ]);
    const spec = (over: Partial<AttackSpec>): AttackSpec => ({
      kind: 'fuzz',
      host: '127.0.0.1',
      ports: [],
      who: {},
      seed: SEED,
      concurrency: 40,
      ...over,
    });
    // Strangers know the ufrag (it is in the signalling); the second attacker is a peer that also knows the
    // password, so its re-signed mutations get past MESSAGE-INTEGRITY into the check handling.
    const strangerWho = { ufrag: stranger.ufrag };
    const fuzz = await p.attacker.call<number>(
      'start',
      spec({ ports: portsOf(stranger), who: strangerWho, maxFrames: 15_000 }),
    );
    const peerFuzz = await p.attacker.call<number>(
      'start',
      spec({
        ports: portsOf(knowing),
        who: { ufrag: knowing.ufrag, pwd: knowing.pwd },
        seed: SEED + 1,
        concurrency: 10,
        maxFrames: 5_000,
      }),
    );
    const during: string[] = [];
    for (let i = 0; i < 3; i++) {
      const round = await connectRound(p, async (v) => {
        // The round's own ports are attacked too: the legitimate peer must get in through the flood.
        await p.attacker.call('retarget', { id: fuzz, ports: portsOf(stranger, v), who: strangerWho });
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
      if (round.error) during.push(round.error);
      await closeRound(p, round);
    }
    const summaries = await Promise.all(
      [fuzz, peerFuzz].map((id) =>
        p.attacker.call<AttackSummary>('finished', { id, timeoutMs: 25_000 }, 30_000),
      ),
    );
    await Promise.all([fuzz, peerFuzz].map((id) => p.attacker.call('stop', { id })));
    await Promise.all([
      p.victim.call('close', { id: stranger.id }),
      p.victim.call('close', { id: knowing.id }),
    ]);
    const after = await connectRound(p);
    await closeRound(p, after);
    const end = await settledStats(p.victim, 500);

    expect(newVictimCrashes(), 'victim crashes').toBe('');
    expect(p.victim.exit, 'victim exited').toBeUndefined();
    expect(summaries.map((s) => s.frames).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(10_000);
    expect(during, 'legitimate connects during the attack').toEqual([]);
    expect(after.error, 'legitimate connect after the attack').toBeUndefined();
    expect(end.fds, `fds ${baseline.fds} before, ${end.fds} after`).toBeLessThanOrEqual(
      baseline.fds + FDS_SLACK,
    );
  });

  it('delivers every packet and stream byte that merely looks like STUN, both ways, and survives them', async () => {
    const problems: string[] = [];
    for (const mode of ['packets', 'stream'] as const) {
      const round = await connectRound(p);
      expect(round.error).toBeUndefined();
      // Each side sends to the other: hostile payloads signed with keys that are not the pair's.
      const ways = [
        { from: p.peer, fromId: round.peer.id, to: p.victim, toId: round.victim.id, name: 'peer to victim' },
        { from: p.victim, fromId: round.victim.id, to: p.peer, toId: round.peer.id, name: 'victim to peer' },
      ];
      for (const w of ways) await w.to.call('receive', { id: w.toId, mode });
      for (const [i, w] of ways.entries()) {
        const sent = await w.from.call<SentSummary>(
          'send',
          { id: w.fromId, mode, seed: SEED + 10 + i, count: 1500, who: {} },
          30_000,
        );
        const got = await w.to.call<ReceivedSummary>('received', {
          id: w.toId,
          ...(mode === 'packets' ? { packets: sent.packets } : { bytes: sent.bytes }),
          timeoutMs: 5_000,
        });
        if (got.sha256 !== sent.sha256 || sent.stalled) {
          problems.push(
            `${mode} ${w.name}: sent ${sent.packets} payloads / ${sent.bytes} bytes${sent.stalled ? ` (stalled: ${sent.stalled})` : ''}, received ${got.packets} packets / ${got.bytes} bytes` +
              (got.errors.length ? ` (errors ${got.errors.join(', ')})` : ''),
          );
        }
      }
      await closeRound(p, round);
    }
    const crashes = newCrashes();
    expect({ crashes, problems }).toEqual({ crashes: '', problems: [] });
  });

  it("survives a connected peer's hostile STUN signed with the pair's own credentials, and keeps carrying packets", async () => {
    const round = await connectRound(p);
    expect(round.error).toBeUndefined();
    await p.victim.call('receive', { id: round.victim.id, mode: 'packets' });
    // Signed with the victim's password, many of these are ICE's own STUN (consent checks, role conflicts,
    // USE-CANDIDATE on a selected pair): the agent handles them; none may crash it or break the connection.
    const sent = await p.peer.call<SentSummary>(
      'send',
      {
        id: round.peer.id,
        mode: 'packets',
        seed: SEED + 30,
        count: 1500,
        who: { ufrag: round.victim.ufrag, pwd: round.victim.pwd },
      },
      30_000,
    );
    const before = await p.victim.call<ReceivedSummary>('received', { id: round.victim.id, timeoutMs: 500 });
    await p.peer.call('sendPlain', { id: round.peer.id, count: 10 });
    const after = await p.victim.call<ReceivedSummary>('received', {
      id: round.victim.id,
      packets: before.packets + 10,
      timeoutMs: 5_000,
    });
    await closeRound(p, round);
    const crashes = newCrashes();
    // TCP keeps order: the last plain packet arriving last means the connection outlived the hostile batch.
    expect({ crashes, stalled: sent.stalled, last: after.last }).toEqual({
      crashes: '',
      stalled: undefined,
      last: 'plain packet 9',
    });
  });

  it("survives a malicious peer's hostile answers to its checks and settles connect() with a typed result", async () => {
    const outcomes: string[] = [];
    for (const [i, role] of (['controlling', 'controlled', 'controlling', 'controlled'] as const).entries()) {
      const victim = await p.victim.call<CreatedAgent>('create', {
        options: { role, tcpTypes: ['active'], connectTimeoutMs: 6_000, checkTimeoutMs: 1_000 },
      });
      const responder = await p.attacker.call<{ id: number; ports: number[] }>('responderStart', {
        who: { ufrag: victim.ufrag, pwd: victim.pwd },
        seed: SEED + 20 + i,
        ports: 8,
      });
      await p.victim.call('remote', { id: victim.id, lines: evilDescription(responder.ports) });
      const result = await p.victim.call<{ ms: number; error?: string }>(
        'connect',
        { id: victim.id },
        15_000,
      );
      const seen = await p.attacker.call<ResponderSummary>('responderStop', { id: responder.id });
      await p.victim.call('close', { id: victim.id });
      // Connecting to the malicious peer is fine (it knows the credentials); hanging or an untyped error is not.
      if (result.error !== undefined && !/^ERR_[A-Z_]+:/.test(result.error))
        outcomes.push(`${role}: ${result.error}`);
      if (seen.requests === 0) outcomes.push(`${role}: the victim sent no check to the malicious peer`);
    }
    const end = await settledStats(p.victim, 500);
    const crashes = newVictimCrashes();
    expect({ crashes, outcomes }).toEqual({ crashes: '', outcomes: [] });
    expect(end.fds, `fds ${baseline.fds} before, ${end.fds} after`).toBeLessThanOrEqual(
      baseline.fds + FDS_SLACK,
    );
  });

  it('survives a hostile STUN/TURN server while gathering and probing the NAT, and settles in bounded time', async () => {
    const problems: string[] = [];
    for (let i = 0; i < 8; i++) {
      const server = await p.attacker.call<{ id: number; port: number }>('serverStart', {
        seed: SEED + 40 + i,
      });
      const gathered = await p.victim.call<{ ms: number; rejected?: string }>(
        'gatherOnly',
        {
          options: {
            gatherTimeoutMs: 1_500,
            stunServers: [{ host: '127.0.0.1', port: server.port }],
            turnServers: [{ host: '127.0.0.1', port: server.port, ...HOSTILE_TURN }],
          },
        },
        15_000,
      );
      // gather() resolves with what it could get; a rejection must at least be typed.
      if (gathered.rejected !== undefined && !/^ERR_[A-Z_]+:/.test(gathered.rejected))
        problems.push(`gather: ${gathered.rejected}`);
      if (gathered.ms > 5_000)
        problems.push(`gather took ${Math.round(gathered.ms)} ms with gatherTimeoutMs 1500`);
      if (i % 3 === 0) {
        const probe = await p.victim.call<{ ms: number; result: string }>(
          'natProbe',
          { port: server.port, timeoutMs: 1_500 },
          30_000,
        );
        if (!/^(ok|ERR_[A-Z_]+:)/.test(probe.result)) problems.push(`natProbe: ${probe.result}`);
        if (probe.ms > 15_000) problems.push(`natProbe took ${Math.round(probe.ms)} ms`);
      }
      const seen = await p.attacker.call<HostileServerSummary>('serverStop', { id: server.id });
      if (seen.requests === 0) problems.push('the hostile server got no request');
    }
    const end = await settledStats(p.victim, 500);
    expect({ crashes: newVictimCrashes(), problems }).toEqual({ crashes: '', problems: [] });
    expect(end.fds, `fds ${baseline.fds} before, ${end.fds} after`).toBeLessThanOrEqual(
      baseline.fds + FDS_SLACK,
    );
  });
});
