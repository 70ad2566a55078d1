import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { type Coturn, startCoturn } from '../support/coturn.js';
import { createLab, type Lab } from '../support/lab.js';
import { cliCommand, exchangeLines, type LinePeer, ROOT } from '../support/line-peer.js';
import type { MatrixCell } from './cells.js';
import { cliInNamespace, type ReportedEndpoint } from './cli-in-netns.js';

/** The STUN server port in the lab's server host. */
export const STUN_PORT = 3478;
/** The RFC 5780 alternate port (its OTHER-ADDRESS), so natcheck learns mapping behaviour from one server. */
export const STUN_ALT_PORT = 3479;
/** coturn's listening port on the same address, next to the STUN server's two. */
export const TURN_PORT = 3480;
/** The one long-term-credential user both agents allocate with. */
export const TURN_USER = 'lab';
/** Its password. */
export const TURN_PASSWORD = 'lab-secret';

/** Options of {@link runCell}. */
export interface RunCellOptions {
  /** `connect --timeout` in seconds. */
  timeoutS: number;
  /**
   * Bytes each side sends (and expects) after connecting; in a 'relay' cell only hostA sends them, since
   * coturn can stall a relayed connection congested both ways at once (README "TURN relay").
   */
  bytes?: number;
  /** Round-trip time the lab's delay lines add between hostA and hostB (`createLab`'s `rttMs`); default 0. */
  rttMs?: number;
  /**
   * How much later hostA gets hostB's lines than hostB gets hostA's (negative: hostB later), in ms; default 0,
   * both at once. Through a signalling server the two sides start their checks at least its one-way latency apart.
   */
  signalOffsetMs?: number;
  /**
   * Called once the lab exists, before the CLIs start (e.g. a packet capture, bench/lab-trace.ts); what it
   * returns is awaited after both CLIs are done, before the lab goes.
   */
  onLab?: (lab: Lab) => Promise<() => Promise<void>>;
}

/** What one cell did. */
export interface CellResult {
  cell: MatrixCell;
  outcome: 'direct' | 'relay' | 'failed' | 'broken';
  /** The selected pair from hostA's view, `local/remote`, e.g. `host so/srflx so`. */
  pairA?: string;
  /** The same from hostB's view (it shows hostA's predicted candidate when that is what hostB reached). */
  pairB?: string;
  /** Time to connected as reported by hostA's CLI (from the peer's lines to `connected`), ms. */
  connectedMs?: number;
  /** Error codes the two CLIs reported. */
  errorCodes: string[];
  exitCodes: Array<number | null>;
  /** Wall time from handing over the lines to both processes' exit, ms. */
  wallMs: number;
  detail?: string;
  /** For a cell run several times: how many attempts met the expectation, out of how many. */
  matched?: { matches: number; attempts: number };
  /** What hostA's and hostB's CLIs wrote on stderr (their `DEBUG=ice-tcp:*` logs, when asked for). */
  stderr?: [string, string];
}

/** `type tcptype[ predicted=kind]` of one reported endpoint. */
function describeEndpoint(value: unknown): string {
  const e = value as ReportedEndpoint & { predicted?: string };
  return `${e.type} ${e.tcptype}${e.predicted ? ` predicted=${e.predicted}` : ''}`;
}

/** The text a cell's `via` pattern is matched against: `a=<pairA>; b=<pairB>`. */
export function pairsText(result: CellResult): string {
  return `a=${result.pairA ?? '-'}; b=${result.pairB ?? '-'}`;
}

/** Starts `ice-tcp stun-server` on the lab's server host and waits until it listens. */
export async function startStunServer(lab: Awaited<ReturnType<typeof createLab>>): Promise<void> {
  const [node, argv] = cliCommand([
    'stun-server',
    '--host',
    lab.server.address,
    '--port',
    String(STUN_PORT),
    '--alt-port',
    String(STUN_ALT_PORT),
    '--json',
  ]);
  const stun = lab.spawn('server', node, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    stun.once('exit', (code) => reject(new Error(`stun-server exited (${code})`)));
    createInterface({ input: stun.stdout! }).on('line', (line) => {
      if (line.includes('"listening"')) resolve();
    });
  });
}

/**
 * Starts coturn on the lab's server host, inside its namespace, with its public address as listening and relay
 * address (no loopback peers: every peer is a lab address).
 */
export function startLabTurn(lab: Lab): Promise<Coturn> {
  return startCoturn({
    namespace: lab.server.namespace,
    listenIp: lab.server.address,
    relayIp: lab.server.address,
    port: TURN_PORT,
    users: { [TURN_USER]: TURN_PASSWORD },
    realm: 'lab.ice-tcp.test',
    // the namespace is the lab's own, so a fixed range cannot collide with another test
    minPort: 49152,
    maxPort: 49251,
    allowLoopbackPeers: false,
  });
}

/** Builds the cell's lab, a STUN server and two `ice-tcp connect` processes, and reports what happened. */
export async function runCell(cell: MatrixCell, options: RunCellOptions): Promise<CellResult> {
  const lab = await createLab({ ...cell.lab, rttMs: options.rttMs ?? cell.lab.rttMs });
  const peers: LinePeer[] = [];
  let turn: Coturn | undefined;
  let stopWatching: (() => Promise<void>) | undefined;
  try {
    stopWatching = await options.onLab?.(lab);
    const [, coturn] = await Promise.all([startStunServer(lab), cell.turn ? startLabTurn(lab) : undefined]);
    turn = coturn;
    const bytes = String(options.bytes ?? 64 * 1024);
    const common = ['--stun', `${lab.server.address}:${STUN_PORT}`, '--timeout', String(options.timeoutS)];
    if (turn) common.push('--turn', `${turn.host}:${turn.port}:${turn.username}:${turn.password}`);
    const oneWay = cell.expect === 'relay';
    const { hostA, hostB } = lab.hosts;
    const a = cliInNamespace(hostA.namespace, [
      'connect',
      '--controlling',
      '--bind',
      hostA.address,
      ...common,
      ...['--send-bytes', bytes, '--expect-bytes', oneWay ? '0' : bytes],
    ]);
    const b = cliInNamespace(hostB.namespace, [
      'connect',
      '--controlled',
      '--bind',
      hostB.address,
      ...common,
      ...['--send-bytes', oneWay ? '0' : bytes, '--expect-bytes', bytes],
    ]);
    peers.push(a, b);
    await exchangeLines(a, b, options.signalOffsetMs);
    const started = performance.now();
    const limitMs = options.timeoutS * 1000 + 15_000;
    const outcomes = await Promise.all(
      [a, b].map((p) =>
        p.waitFor('done', limitMs).then(
          () => undefined,
          (err: Error) => err.message,
        ),
      ),
    );
    const exitCodes = await Promise.all(
      [a, b].map((p) =>
        Promise.race([p.exited(), new Promise<null>((r) => setTimeout(() => r(null), 5000))]),
      ),
    );
    const wallMs = performance.now() - started;
    const [connectedA, connectedB] = await Promise.all(
      [a, b].map((p) => p.waitFor('connected', 1).catch(() => undefined)),
    );
    const errorCodes = outcomes
      .map((o) => /"code":"([A-Z_]+)"/.exec(o ?? '')?.[1])
      .filter((c): c is string => c !== undefined);
    const pair = (e: Record<string, unknown> | undefined) =>
      e ? `${describeEndpoint(e.local)}/${describeEndpoint(e.remote)}` : undefined;
    if (outcomes.every((o) => o === undefined) && connectedA) {
      const pairA = pair(connectedA);
      const pairB = pair(connectedB);
      const relayed = [pairA, pairB].some((p) => p?.includes('relay'));
      return {
        cell,
        outcome: relayed ? 'relay' : 'direct',
        pairA,
        pairB,
        connectedMs: Number(connectedA.elapsedMs),
        errorCodes,
        exitCodes,
        wallMs,
        stderr: [a.stderr, b.stderr],
      };
    }
    const clean =
      errorCodes.length === 2 && errorCodes.every((c) => c === 'ERR_ICE_FAILED' || c === 'ERR_ICE_TIMEOUT');
    return {
      cell,
      outcome: clean ? 'failed' : 'broken',
      errorCodes,
      exitCodes,
      wallMs,
      detail: outcomes.filter((o) => o !== undefined).join('\n'),
      stderr: [a.stderr, b.stderr],
    };
  } finally {
    for (const p of peers) p.kill();
    try {
      await stopWatching?.();
      await turn?.stop();
    } finally {
      await lab.destroy();
    }
  }
}

/**
 * Runs a cell `cell.attempts` times (default once), each on a fresh lab. Returns the first attempt that met the
 * expectation (or the last one) with the median time to connected of those that did, and `matched` counting them.
 */
export async function runCellAttempts(
  cell: MatrixCell,
  options: RunCellOptions,
  meets: (result: CellResult) => boolean,
): Promise<CellResult> {
  const planned = cell.attempts ?? 1;
  const needed = cell.minMatches ?? planned;
  const met: CellResult[] = [];
  let last: CellResult | undefined;
  let attempts = 0;
  // stops once the verdict is decided either way: CI time goes to attempts that can still change it
  while (attempts < planned && met.length < needed && met.length + (planned - attempts) >= needed) {
    last = await runCell(cell, options);
    attempts++;
    if (meets(last)) met.push(last);
  }
  if (planned === 1) return last as CellResult;
  const times = met
    .flatMap((r) => (r.connectedMs === undefined ? [] : [r.connectedMs]))
    .sort((a, b) => a - b);
  const median = times.length > 0 ? times[Math.floor((times.length - 1) / 2)] : undefined;
  const shown = met[0] ?? (last as CellResult);
  return { ...shown, connectedMs: median ?? shown.connectedMs, matched: { matches: met.length, attempts } };
}
