/**
 * A neighbour on natA's LAN that keeps opening TCP connections to a server through the NAT: the background
 * flows of a busy home network, each of which takes the next port of a sequential NAT.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Lab } from './lab.js';
import { deleteNamespaces, deleteNamespacesSync, IpBatch, spawnIn, vethTokens } from './netns.js';

/** The neighbour's LAN address (hostA is .2, the same-NAT hostB .3). */
export const NEIGHBOUR_ADDRESS = '10.0.1.9';

// Opens one connection every `1000 / rate` ms and resets it once connected (no TIME_WAIT, no data): one new
// conntrack entry, hence one NAT port, per tick. Prints "ready" after its first connection got through.
const SCRIPT = `
const net = require('node:net');
const [host, port] = process.argv[1].split(':');
const every = 1000 / Number(process.argv[2]);
let ready = false;
setInterval(() => {
  const s = net.connect({ host, port: Number(port), autoSelectFamily: false });
  s.on('error', () => {});
  s.on('connect', () => {
    if (!ready) { ready = true; console.log('ready'); }
    s.resetAndDestroy();
  });
}, every);
`;

/** A running neighbour; `stop()` kills it and removes its namespace (idempotent). */
export interface LanNeighbour {
  stop(): Promise<void>;
}

/**
 * Adds a host behind natA (its own namespace, bridged into natA's LAN) that connects to `server`
 * (`address:port`) `rate` times a second until stopped. Resolves once its first connection went through.
 */
export async function addLanNeighbour(lab: Lab, server: string, rate: number): Promise<LanNeighbour> {
  const nat = lab.natA;
  if (!nat) throw new Error('lab-neighbour: the lab has no natA');
  const ns = `${lab.prefix}nbr`;
  let child: ChildProcess | undefined;
  // the last resort if the test process dies before stop(): the lab's own exit hook knows only its names
  const atExit = () => {
    child?.kill('SIGKILL');
    deleteNamespacesSync([ns]);
  };
  process.once('exit', atExit);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopNow();
    return stopping;
  };
  const stopNow = async () => {
    process.off('exit', atExit);
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    }
    await deleteNamespaces([ns]);
  };
  try {
    await new IpBatch()
      .add('netns', 'add', ns)
      .add(...vethTokens(ns, 'eth0', nat.namespace, 'nbr'))
      .run();
    await new IpBatch(nat.namespace)
      .add('link', 'set', 'nbr', 'master', 'lan')
      .add('link', 'set', 'nbr', 'up')
      .run();
    await new IpBatch(ns)
      .add('link', 'set', 'lo', 'up')
      .add('addr', 'add', `${NEIGHBOUR_ADDRESS}/24`, 'dev', 'eth0')
      .add('link', 'set', 'eth0', 'up')
      .add('route', 'add', 'default', 'via', nat.lan)
      .run();
    const c = spawnIn(ns, process.execPath, ['-e', SCRIPT, server, String(rate)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('lab-neighbour: no connection within 10 s')), 10_000);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`lab-neighbour exited (${code})`));
      });
      createInterface({ input: c.stdout! }).once('line', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
