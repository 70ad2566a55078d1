import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/so-peer.ts', import.meta.url));

/** What one side of one trial printed. */
export interface TrialSide {
  ok: boolean;
  connectMs: number;
  error?: string;
  received?: string;
  localPort?: number;
  remotePort?: number;
}

/** Options of {@link runSoTrials}. */
export interface SoTrialOptions {
  namespaces: readonly [string, string];
  addresses: readonly [string, string];
  trials: number;
  acceptInbound: boolean;
  timeoutMs: number;
}

/** A fixture process with a line reader on its stdout. */
interface Peer {
  child: ChildProcessWithoutNullStreams;
  next(): Promise<Record<string, unknown>>;
  stderr: string[];
}

function startPeer(namespace: string, address: string, options: SoTrialOptions): Peer {
  const args = [namespace, process.execPath, '--import', 'tsx', FIXTURE, address, String(options.trials)];
  args.push(options.acceptInbound ? '1' : '0', String(options.timeoutMs));
  // tsx resolves from the repository's node_modules: run with the repository as working directory.
  const child = spawn('ip', ['netns', 'exec', ...args], { cwd: REPO_ROOT });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    stderr,
    async next() {
      const line = await lines.next();
      if (line.done) throw new Error(`fixture in ${namespace} exited early: ${stderr.join('')}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    },
  };
}

/** Runs `trials` simultaneous-open trials between fixtures in the two namespaces; returns both sides' results. */
export async function runSoTrials(options: SoTrialOptions): Promise<Array<[TrialSide, TrialSide]>> {
  const peers = [0, 1].map((i) =>
    startPeer(options.namespaces[i] ?? '', options.addresses[i] ?? '', options),
  );
  const [a, b] = peers as [Peer, Peer];
  const results: Array<[TrialSide, TrialSide]> = [];
  try {
    for (let i = 0; i < options.trials; i++) {
      const [portA, portB] = await Promise.all([a.next(), b.next()]);
      // Each side learns the other's port at (nearly) the same moment, as with trickled candidates.
      a.child.stdin.write(`${JSON.stringify({ peerAddress: options.addresses[1], peerPort: portB.port })}\n`);
      b.child.stdin.write(`${JSON.stringify({ peerAddress: options.addresses[0], peerPort: portA.port })}\n`);
      const [resultA, resultB] = await Promise.all([a.next(), b.next()]);
      results.push([resultA as unknown as TrialSide, resultB as unknown as TrialSide]);
    }
  } finally {
    for (const peer of peers) peer.child.kill();
  }
  return results;
}
