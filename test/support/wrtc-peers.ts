import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { IceAgent } from '../../src/index.js';

/** Whether `@roamhq/wrtc` (libwebrtc for Node, a devDependency) is installed. */
export const wrtcInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@roamhq/wrtc');
    return true;
  } catch {
    return false;
  }
})();

const FIXTURE = fileURLToPath(new URL('../interop/wrtc_peers.mjs', import.meta.url));

/** One JSON line of the fixture. */
export type WrtcMessage = Record<string, unknown> & { id?: number; event?: string };

/** A process of libwebrtc peer connections (test/interop/wrtc_peers.mjs) and its lines, in order. */
export interface WrtcProcess {
  child: ChildProcess;
  messages: WrtcMessage[];
  send(message: Record<string, unknown>): void;
  /** The first line from index `from` on (default: the next one) that `match`es; rejects after `ms`. */
  next(match: (m: WrtcMessage) => boolean, ms: number, from?: number): Promise<WrtcMessage>;
  /** Ends stdin (the fixture closes its connections and exits); SIGKILL if it has not exited within 5 s. */
  close(): Promise<void>;
}

/** Starts the fixture process. Its stderr is inherited, so a crash of libwebrtc shows in the test's output. */
export function startWrtcProcess(): WrtcProcess {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const messages: WrtcMessage[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    messages.push(JSON.parse(line) as WrtcMessage);
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = (match: (m: WrtcMessage) => boolean, ms: number, from = messages.length) =>
    new Promise<WrtcMessage>((resolve, reject) => {
      const check = () => {
        const found = messages.slice(from).find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        const errors = messages.filter((m) => m.event === 'error');
        reject(new Error(`libwebrtc: no such line within ${ms} ms; errors ${JSON.stringify(errors)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    child,
    messages,
    send: (message) => child.stdin!.write(`${JSON.stringify(message)}\n`),
    next,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** libwebrtc's ufrag, pwd, ice-lite flag and its passive TCP candidates on 127.0.0.1 (tests stay on loopback). */
export function parseWrtcSdp(sdp: string): { ufrag: string; pwd: string; candidates: string[] } {
  const lines = sdp.split(/\r?\n/);
  const value = (key: string) => lines.find((l) => l.startsWith(key))?.slice(key.length) ?? '';
  const candidates = lines
    .filter((l) => l.startsWith('a=candidate:') && / tcp .* 127\.0\.0\.1 .*tcptype passive/.test(l))
    .map((l) => l.slice(2));
  return { ufrag: value('a=ice-ufrag:'), pwd: value('a=ice-pwd:'), candidates };
}

/**
 * A data-channel SDP for libwebrtc with the agent's credentials and passive candidates, and a made-up DTLS
 * fingerprint: libwebrtc's ICE connects over our TCP candidates, its DTLS never does (the ICE layer does not
 * care). As the answer we are `setup:passive` (libwebrtc is the DTLS client), as the offer `actpass`; a lite
 * agent adds `a=ice-lite` at session level (RFC 8839 §5.3).
 */
export function iceTcpSdp(agent: IceAgent, type: 'offer' | 'answer'): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0')).join(':');
  const description = agent.localDescription();
  const candidates = description.filter(
    (l) => l.startsWith('a=candidate:') && l.includes(' tcptype passive'),
  );
  const { ufrag, pwd } = agent.localParameters;
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    ...(description.includes('a=ice-lite') ? ['a=ice-lite'] : []),
    'a=group:BUNDLE 0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    `a=fingerprint:sha-256 ${fingerprint.toUpperCase()}`,
    `a=setup:${type === 'answer' ? 'passive' : 'actpass'}`,
    'a=mid:0',
    'a=sctp-port:5000',
    ...candidates,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}
