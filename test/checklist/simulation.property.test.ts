import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Checklist, type ChecklistAction } from '../../src/checklist/index.js';
import { hostCandidates, testConfig } from './helpers.js';
import { type SimAgent, SimNetwork } from './network.js';

const finished = (list: Checklist) => list.state === 'completed' || list.state === 'failed';

describe('two agents under random roles, timings and reachability', () => {
  it('either both select the same connection, or both fail when neither can reach the other', () => {
    fc.assert(
      fc.property(
        fc.record({
          roles: fc.constantFrom(
            ['controlling', 'controlled'] as const,
            ['controlling', 'controlling'] as const,
            ['controlled', 'controlled'] as const,
          ),
          tieBreakers: fc.uniqueArray(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), {
            minLength: 2,
            maxLength: 2,
          }),
          latencyMs: fc.integer({ min: 1, max: 60 }),
          pacingMs: fc.integer({ min: 1, max: 25 }),
          signalDelayMs: fc.integer({ min: 0, max: 300 }),
          startDelayMs: fc.integer({ min: 0, max: 300 }),
          aReachable: fc.boolean(),
          bReachable: fc.boolean(),
        }),
        (s) => {
          const [ta, tb] = s.tieBreakers as [bigint, bigint];
          const config = (role: 'controlling' | 'controlled', tieBreaker: bigint) =>
            testConfig({ role, tieBreaker, pacingMs: s.pacingMs });
          const a: SimAgent = {
            name: 'A',
            list: new Checklist(config(s.roles[0], ta)),
            locals: hostCandidates('A', '10.0.0.1', 40000),
          };
          const b: SimAgent = {
            name: 'B',
            list: new Checklist(config(s.roles[1], tb)),
            locals: hostCandidates('B', '10.0.0.2', 50000),
          };
          const unreachable = new Set([
            ...(s.aReachable ? [] : ['10.0.0.1']),
            ...(s.bReachable ? [] : ['10.0.0.2']),
          ]);
          const net = new SimNetwork([a, b], s.latencyMs, unreachable);
          const selections = new Map<string, number>();
          for (const side of [a, b]) {
            const poll = side.list.poll.bind(side.list);
            side.list.poll = (now: number): ChecklistAction[] => {
              const actions = poll(now);
              for (const x of actions) {
                if (x.type === 'selected' || x.type === 'failed')
                  selections.set(side.name, (selections.get(side.name) ?? 0) + 1);
              }
              return actions;
            };
            for (const c of side.locals) side.list.addLocalCandidate(c, 0);
            side.list.setLocalGatheringComplete(0);
          }
          for (const [from, to] of [
            [a, b],
            [b, a],
          ] as const) {
            from.locals.forEach((c, i) => {
              const { id: _i, baseAddress: _a, basePort: _p, ...wire } = c;
              net.at(s.signalDelayMs + i, () => to.list.addRemoteCandidate(wire, net.now));
            });
            net.at(s.signalDelayMs + 3, () => to.list.setRemoteEndOfCandidates(net.now));
          }
          net.at(0, () => a.list.start(net.now));
          net.at(s.startDelayMs, () => b.list.start(net.now));
          net.run(() => finished(a.list) && finished(b.list), 60_000);

          expect(selections.get('A')).toBe(1);
          expect(selections.get('B')).toBe(1);
          if (!s.aReachable && !s.bReachable) {
            expect([a.list.state, b.list.state]).toEqual(['failed', 'failed']);
            return;
          }
          expect([a.list.state, b.list.state]).toEqual(['completed', 'completed']);
          expect([a.list.role, b.list.role].sort()).toEqual(['controlled', 'controlling']);
          expect(net.connectionOf(a, a.list.selectedPair!.id)).toBe(
            net.connectionOf(b, b.list.selectedPair!.id),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
