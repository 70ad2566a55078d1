/** Child process running {@link Attack}s for the hostile harness, so that its CPU is not the victim's. */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Attack, type AttackSpec, type AttackSummary } from './attacker.js';
import { type HostileServerSummary, HostileStunServer } from './hostile-server.js';
import type { VictimKnowledge } from './mutate.js';
import { Prng } from './prng.js';
import { HostileResponder, type ResponderSummary } from './responder.js';
import { serve } from './rpc.js';

// On a real network the attacker is another machine; here it shares the victim's cores. The lowest priority
// keeps what is measured the victim's resilience, not the scheduler's fairness between the two.
setPriority(process.pid, 19);

const attacks = new Map<number, Attack>();
const responders = new Map<number, HostileResponder>();
const servers = new Map<number, HostileStunServer>();
let nextId = 1;

function attack(id: number): Attack {
  const a = attacks.get(id);
  if (!a) throw new Error(`no attack ${id}`);
  return a;
}

serve({
  start(spec: AttackSpec): number {
    const id = nextId++;
    attacks.set(id, new Attack(spec));
    return id;
  },
  snapshot(args: { id: number }): AttackSummary {
    return attack(args.id).snapshot();
  },
  retarget(args: { id: number; ports: number[]; who: VictimKnowledge }): void {
    attack(args.id).retarget(args.ports, args.who);
  },
  async finished(args: { id: number; timeoutMs: number }): Promise<AttackSummary> {
    const a = attack(args.id);
    await Promise.race([a.finished, new Promise((resolve) => setTimeout(resolve, args.timeoutMs))]);
    return a.snapshot();
  },
  async stop(args: { id: number }): Promise<AttackSummary> {
    const a = attack(args.id);
    attacks.delete(args.id);
    return a.stop();
  },
  async responderStart(args: {
    who: VictimKnowledge;
    seed: number;
    ports: number;
  }): Promise<{ id: number; ports: number[] }> {
    const { responder, ports } = await HostileResponder.start(new Prng(args.seed), args.who, args.ports);
    const id = nextId++;
    responders.set(id, responder);
    return { id, ports };
  },
  async responderStop(args: { id: number }): Promise<ResponderSummary | undefined> {
    const r = responders.get(args.id);
    responders.delete(args.id);
    return r?.stop();
  },
  async serverStart(args: { seed: number }): Promise<{ id: number; port: number }> {
    const { server, port } = await HostileStunServer.start(new Prng(args.seed));
    const id = nextId++;
    servers.set(id, server);
    return { id, port };
  },
  async serverStop(args: { id: number }): Promise<HostileServerSummary | undefined> {
    const s = servers.get(args.id);
    servers.delete(args.id);
    return s?.stop();
  },
  fds(): number {
    return readdirSync('/proc/self/fd').length;
  },
});
