import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
}

/** A running coturn instance started by a test. */
export interface Coturn {
  host: string;
  port: number;
  realm: string;
  /** The first user. */
  username: string;
  password: string;
  /** Everything coturn printed so far (for diagnosing a failing test). */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

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

/**
 * Starts `/usr/bin/turnserver` with a generated config file in a temp dir: long-term credentials, TCP relay on,
 * loopback peers allowed, no CLI/TLS/DTLS/UDP listener, a private SQLite userdb (never the system one).
 * Resolves once the listening port accepts TCP connections.
 */
export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const host = options.listenIp ?? '127.0.0.1';
  const relayIp = options.relayIp ?? host;
  const users = options.users ?? { alice: 'secret-a' };
  const realm = options.realm ?? 'ice-tcp.test';
  // Random small relay port range so parallel test files rarely collide; coturn retries within it anyway.
  const minPort = options.minPort ?? 49152 + Math.floor(Math.random() * 100) * 100;
  const maxPort = options.maxPort ?? minPort + 99;
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), 'ice-tcp-coturn-'));
  // 4.6.1 ignores the value of `--permission-lifetime 5` (needs `=`), so a config file is the reliable way.
  const lines = [
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-udp',
    `listening-ip=${host}`,
    `relay-ip=${relayIp}`,
    `listening-port=${port}`,
    'lt-cred-mech',
    `realm=${realm}`,
    ...Object.entries(users).map(([u, p]) => `user=${u}:${p}`),
    `min-port=${minPort}`,
    `max-port=${maxPort}`,
    'allow-loopback-peers',
    'no-multicast-peers',
    'log-file=stdout',
    'simple-log',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    ...(options.maxAllocateLifetime !== undefined
      ? [`max-allocate-lifetime=${options.maxAllocateLifetime}`]
      : []),
    ...(options.permissionLifetime !== undefined
      ? [`permission-lifetime=${options.permissionLifetime}`]
      : []),
    ...(options.channelLifetime !== undefined ? [`channel-lifetime=${options.channelLifetime}`] : []),
    ...(options.extra ?? []),
  ];
  const configPath = join(dir, 'turnserver.conf');
  writeFileSync(configPath, `${lines.join('\n')}\n`);

  const child = spawn(TURNSERVER, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    await waitForPort(host, port, 10_000, () => child.exitCode !== null || child.signalCode !== null);
  } catch (err) {
    await stop();
    throw new Error(`coturn did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  const [username, password] = Object.entries(users)[0] ?? ['', ''];
  return { host, port, realm, username, password, log: () => output, stop };
}

async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  dead: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead()) throw new Error('turnserver exited');
    if (await canConnect(host, port)) return;
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
