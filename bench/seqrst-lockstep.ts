/**
 * The best case of sequential+rst at ~0 RTT, without ICE: hostA behind a sequential RST-filtering NAT sends one
 * SYN per slot (every `slotMs`) to hostB's public mapping; every such SYN is a new flow, so its port is the NAT's
 * base + slot. hostB, behind a preserving RST-filtering NAT, re-SYNs (at once after each refusal) to the port of
 * the current slot, by a clock both share (the same machine). A SYN of hostA connects only when it crosses one of
 * hostB's between the two NATs. Prints one JSON line per fresh lab and a summary: crossings per SYN of hostA,
 * which bounds what any schedule can get out of that many ports (README, "Still failing").
 * Needs root, `ip` and `nft`. `tsx bench/seqrst-lockstep.ts [labs] [slotMs] [slots]`
 */
import { createLab } from '../test/support/lab.js';

const LABS = Number(process.argv[2] ?? 5);
const SLOT_MS = Number(process.argv[3] ?? 10);
/** Below the lab NAT's 200-port cycle, so slot k is port base + k. */
const SLOTS = Number(process.argv[4] ?? 190);
const PORT = 41000;

/** The peer in one namespace (`node -e`): role a sends one SYN per slot, role b chases the slot's port. */
const PEER = `
const net = require('node:net');
const [role, local, raddr, rport, t0s, slotS, slotsS] = process.argv.slice(1);
const T0 = Number(t0s), I = Number(slotS), N = Number(slotsS);
const res = { role, crossed: [], syns: 0 };
function once(port, slot, cb) {
  res.syns++;
  const s = net.connect({ host: raddr, port, localAddress: local, localPort: ${PORT}, autoSelectFamily: false });
  s.once('connect', () => { res.crossed.push(slot); s.resetAndDestroy(); cb(); });
  s.once('error', () => { s.destroy(); cb(); });
}
const finish = () => setTimeout(() => { console.log(JSON.stringify(res)); process.exit(0); }, 300);
if (role === 'a') {
  let j = 0;
  const tick = () => {
    if (j >= N) return finish();
    once(Number(rport), j, () => {});
    j++;
    setTimeout(tick, Math.max(0, T0 + j * I - Date.now()));
  };
  setTimeout(tick, Math.max(0, T0 - Date.now()));
} else {
  const loop = () => {
    const t = Date.now();
    if (t >= T0 + (N + 1) * I) return finish();
    const slot = Math.max(0, Math.round((t - T0) / I));
    once(Number(rport) + slot, slot, () => setImmediate(loop));
  };
  setTimeout(loop, Math.max(0, T0 - I / 2 - Date.now()));
}
`;

interface PeerResult {
  crossed: number[];
  syns: number;
}

let crossings = 0;
let synsA = 0;
for (let run = 1; run <= LABS; run++) {
  const lab = await createLab({
    a: { mapping: 'sequential', filtering: 'rst' },
    b: { mapping: 'preserve', filtering: 'rst' },
  });
  try {
    // far enough ahead for both node processes to start on a loaded machine
    const t0 = Date.now() + 1500;
    const peer = (node: 'hostA' | 'hostB', args: string[]) =>
      new Promise<PeerResult>((resolve, reject) => {
        const child = lab.spawn(node, process.execPath, ['-e', PEER, ...args], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString('utf8');
        });
        child.on('error', reject);
        child.on('exit', () => {
          try {
            resolve(JSON.parse(out) as PeerResult);
          } catch (error) {
            reject(error);
          }
        });
      });
    const common = [String(t0), String(SLOT_MS), String(SLOTS)];
    const [a, b] = await Promise.all([
      peer('hostA', ['a', lab.hosts.hostA.address, lab.natB!.publicAddress, String(PORT), ...common]),
      peer('hostB', [
        'b',
        lab.hosts.hostB.address,
        lab.natA!.publicAddress,
        String(lab.natA!.sequentialBase),
        ...common,
      ]),
    ]);
    const crossed = [...new Set([...a.crossed, ...b.crossed])].sort((x, y) => x - y);
    crossings += crossed.length;
    synsA += a.syns;
    const bPerMs = b.syns / ((SLOTS + 1) * SLOT_MS);
    console.log(JSON.stringify({ run, synsA: a.syns, crossed, synsBPerMs: Number(bPerMs.toFixed(2)) }));
  } finally {
    await lab.destroy();
  }
}
const perSyn = synsA > 0 ? crossings / synsA : 0;
const portsFor90 = perSyn > 0 ? Math.ceil(Math.log(0.1) / Math.log(1 - perSyn)) : null;
console.log(JSON.stringify({ labs: LABS, slotMs: SLOT_MS, crossings, synsA, perSyn, portsFor90 }));
