import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where coturn 4.6.x is installed on Debian. */
export const TURNSERVER = '/usr/bin/turnserver';

/** Options for {@link startCoturn}; lifetimes are in seconds. */
export interface CoturnOptions {
  listenIp?: string;
  relayIp?: string;
  users?: Record<string, string>;
  realm?: string;
  maxAllocateLifetime?: number;
  permissionLifetime?: number;
  channelLifetime?: number;
  minPort?: number;
  maxPort?: number;
  /** Extra raw config lines (e.g. `total-quota=1`). */
  extra?: string[];
  /** Listening port; default a free one on `listenIp` (only meaningful in the root namespace). */
  port?: number;
  /** Default true: the loopback tests relay to 127.0.0.1; a lab server on a public address needs no such hole. */
  allowLoopbackPeers?: boolean;
  /** Run coturn (and the readiness probe) inside this network namespace; `port` is then required. */
  namespace?: string;
  /** Also listen for TURN over TLS with a fresh self-signed certificate (needs `openssl`, see {@link hasOpenssl}). */
  tls?: boolean;
  /** TLS listening port; default a free one on `listenIp`. */
  tlsPort?: number;
}

/** What {@link coturnConfig} needs beyond {@link CoturnOptions}: resolved addresses, port and a private dir. */
export interface CoturnConfigInput {
  listenIp: string;
  relayIp: string;
  port: number;
  users: Record<string, string>;
  realm: string;
  minPort: number;
  maxPort: number;
  /** Holds the SQLite userdb and the pid file. */
  dir: string;
  allowLoopbackPeers: boolean;
  maxAllocateLifetime?: number;
  permissionLifetime?: number;
  channelLifetime?: number;
  extra?: string[];
  /** Enables the TLS listener on this port with this certificate and key (PEM file paths). */
  tls?: { port: number; certPath: string; keyPath: string };
}

/** A running coturn instance started by a test. */
export interface Coturn {
  host: string;
  port: number;
  realm: string;
  /** The relay port range (min-port, max-port): relayed addresses fall inside it. */
  relayPorts: { min: number; max: number };
  /** The first user. */
  username: string;
  password: string;
  /** The TLS listening port, when started with `tls`. */
  tlsPort?: number;
  /** The self-signed server certificate (PEM), when started with `tls`: pass it as `ca`. */
  cert?: string;
  /** Everything coturn printed so far (for diagnosing a failing test). */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
let instancesStarted = 0;

/** Relay ports start here: below Linux's ephemeral range (`ip_local_port_range`, 32768-60999 by default). */
const RELAY_PORTS_FROM = 20_000;
/** Ports per coturn instance, and instances per test worker before the worker's slots wrap around. */
const RELAY_PORTS_PER_INSTANCE = 100;
const SLOTS_PER_WORKER = 8;
const WORKER_GROUPS = 15;

/**
 * The first relay port of a new coturn instance. Not a random range inside the ephemeral ports: there every
 * `connect()` and `listen(0)` of a parallel suite can take a relay port the moment coturn frees it, and a test
 * that expects a closed allocation's port to refuse connections then finds someone else's socket on it (the
 * "close() deallocates" flake). The kernel never picks ports below its ephemeral range by itself, so only another
 * coturn could take them; each vitest worker (VITEST_POOL_ID, unique among the workers running at once) gets its own
 * slots, and within a worker each instance the next one. 20000 + 15 * 8 * 100 stays below 32000.
 */
function relayRangeStart(): number {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.pid);
  const slot = (worker % WORKER_GROUPS) * SLOTS_PER_WORKER + (instancesStarted++ % SLOTS_PER_WORKER);
  return RELAY_PORTS_FROM + slot * RELAY_PORTS_PER_INSTANCE;
}

/** A TCP port that was free a moment ago on `host`. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `openssl` is there to make the test certificate of {@link startCoturn} `tls`. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a one-day self-signed certificate for `localhost` / 127.0.0.1 (RSA 2048, unencrypted key) into `dir`.
 * openssl rather than node:crypto because Node has no API to issue X.509 certificates.
 */
export function makeSelfSignedCert(dir: string): { certPath: string; keyPath: string; cert: string } {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8') };
}

/**
 * The lines of a turnserver.conf: long-term credentials, TCP relay on, no CLI/DTLS/UDP listener, TLS only when
 * `tls` is given, a private SQLite userdb (never the system one), logging to stdout.
 */
export function coturnConfig(c: CoturnConfigInput): string[] {
  // 4.6.1 ignores the value of `--permission-lifetime 5` (needs `=`), so a config file is the reliable way.
  return [
    'no-cli',
    ...(c.tls
      ? [`tls-listening-port=${c.tls.port}`, `cert=${c.tls.certPath}`, `pkey=${c.tls.keyPath}`]
      : ['no-tls']),
    'no-dtls',
    'no-udp',
    `listening-ip=${c.listenIp}`,
    `relay-ip=${c.relayIp}`,
    `listening-port=${c.port}`,
    'lt-cred-mech',
    `realm=${c.realm}`,
    ...Object.entries(c.users).map(([u, p]) => `user=${u}:${p}`),
    `min-port=${c.minPort}`,
    `max-port=${c.maxPort}`,
    ...(c.allowLoopbackPeers ? ['allow-loopback-peers'] : []),
    'no-multicast-peers',
    'log-file=stdout',
    'simple-log',
    `userdb=${join(c.dir, 'turndb')}`,
    `pidfile=${join(c.dir, 'turnserver.pid')}`,
    ...(c.maxAllocateLifetime !== undefined ? [`max-allocate-lifetime=${c.maxAllocateLifetime}`] : []),
    ...(c.permissionLifetime !== undefined ? [`permission-lifetime=${c.permissionLifetime}`] : []),
    ...(c.channelLifetime !== undefined ? [`channel-lifetime=${c.channelLifetime}`] : []),
    ...(c.extra ?? []),
  ];
}

/**
 * Starts `/usr/bin/turnserver` with a generated config file ({@link coturnConfig}) in a temp dir, in the root
 * namespace or in `options.namespace`. Resolves once the listening port accepts TCP connections.
 */
export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const host = options.listenIp ?? '127.0.0.1';
  const users = options.users ?? { alice: 'secret-a' };
  const realm = options.realm ?? 'ice-tcp.test';
  const minPort = options.minPort ?? relayRangeStart();
  const maxPort = options.maxPort ?? minPort + RELAY_PORTS_PER_INSTANCE - 1;
  const ns = options.namespace;
  if (ns !== undefined && options.port === undefined)
    throw new Error('startCoturn: a namespace needs a port');
  const port = options.port ?? (await freePort(host));
  const dir = mkdtempSync(join(tmpdir(), 'ice-tcp-coturn-'));
  let tls: { port: number; certPath: string; keyPath: string; cert: string } | undefined;
  if (options.tls) {
    try {
      tls = { port: options.tlsPort ?? (await freeTlsPort(host, port)), ...makeSelfSignedCert(dir) };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const lines = coturnConfig({
    listenIp: host,
    relayIp: options.relayIp ?? host,
    port,
    users,
    realm,
    minPort,
    maxPort,
    dir,
    allowLoopbackPeers: options.allowLoopbackPeers ?? true,
    maxAllocateLifetime: options.maxAllocateLifetime,
    permissionLifetime: options.permissionLifetime,
    channelLifetime: options.channelLifetime,
    extra: options.extra,
    tls,
  });
  const configPath = join(dir, 'turnserver.conf');
  writeFileSync(configPath, `${lines.join('\n')}\n`);

  // `ip netns exec` execs in place, so the child's pid is turnserver's own and the signals below reach it.
  const [command, args] =
    ns === undefined
      ? [TURNSERVER, ['-c', configPath]]
      : ['ip', ['netns', 'exec', ns, TURNSERVER, '-c', configPath]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort: never leave a coturn behind when a test file crashes before stop().
    process.on('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const dead = () => child.exitCode !== null || child.signalCode !== null;
    await waitForPort(host, port, 10_000, dead, ns);
    if (tls) await waitForPort(host, tls.port, 10_000, dead, ns);
  } catch (err) {
    await stop();
    throw new Error(`coturn did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  const [username, password] = Object.entries(users)[0] ?? ['', ''];
  return {
    host,
    port,
    realm,
    relayPorts: { min: minPort, max: maxPort },
    username,
    password,
    ...(tls ? { tlsPort: tls.port, cert: tls.cert } : {}),
    log: () => output,
    stop,
  };
}

/** A free port that is not `port` or next to it: coturn also opens listening-port + 1 as its alternate port. */
async function freeTlsPort(host: string, port: number): Promise<number> {
  for (;;) {
    const candidate = await freePort(host);
    if (Math.abs(candidate - port) > 1) return candidate;
  }
}

async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  dead: () => boolean,
  ns?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead()) throw new Error('turnserver exited');
    if (await (ns === undefined ? canConnect(host, port) : canConnectIn(ns, host, port))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${host}:${port} not accepting connections after ${timeoutMs} ms`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The same probe from inside a namespace: bash's /dev/tcp opens (and at exit closes) one connection. */
function canConnectIn(ns: string, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], {
      stdio: 'ignore',
    });
    probe.once('error', () => resolve(false));
    probe.once('exit', (code) => resolve(code === 0));
  });
}
