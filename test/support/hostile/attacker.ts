/**
 * Attacks on an agent's TCP ports, each a pool of connection slots that reopen when the victim closes them:
 * `fuzz` (hostile frames), `idle` (connect and say nothing), `drip` (one byte of a check every interval) and
 * `badcreds` (well-formed checks with an unknown ufrag or a wrong MESSAGE-INTEGRITY). Loopback only.
 */
import net from 'node:net';
import { encodeFrame } from '../../../src/framing/index.js';
import { StunClass, StunMessageBuilder, StunMethod, shortTermKey } from '../../../src/stun/index.js';
import { hostileFrameBytes, type VictimKnowledge } from './mutate.js';
import { Prng } from './prng.js';

/** What to attack and how hard. */
export interface AttackSpec {
  kind: 'fuzz' | 'idle' | 'drip' | 'badcreds';
  host: string;
  ports: number[];
  who: VictimKnowledge;
  seed: number;
  /** Connections open at once. */
  concurrency: number;
  /** New connections per second, at most (default 2000). */
  connectRate?: number;
  /** fuzz: stop after this many frames (default: until stopped). */
  maxFrames?: number;
  /** drip: interval between bytes (default 1000 ms). */
  dripIntervalMs?: number;
  /**
   * Connect from random 127.x.y.z source addresses (all of 127/8 is local on Linux), so that the victim sees
   * many hosts and a per-source cap alone cannot hold the flood. Only for targets on 127.0.0.1.
   */
  spreadSources?: boolean;
}

/** Counters of an attack. */
export interface AttackSummary {
  kind: AttackSpec['kind'];
  connections: number;
  frames: number;
  bytes: number;
  refused: number;
  /** Connections the victim ended (FIN or RST) while we still held them. */
  closedByVictim: number;
  /** fuzz/badcreds connections destroyed at their 0.5 s end of life with bytes the victim never read. */
  unread: number;
  open: number;
  maxOpen: number;
  errors: Record<string, number>;
  ms: number;
  done: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running attack; `stop()` ends every connection and returns the counters. */
export class Attack {
  readonly summary: AttackSummary;
  private readonly rng: Prng;
  private readonly sockets = new Set<net.Socket>();
  private readonly started = performance.now();
  private stopped = false;
  private portIndex = 0;
  private tokens = 0;
  private lastRefill = performance.now();
  private readonly slots: Promise<void>[] = [];
  /** Resolves once the frame budget is spent (fuzz with maxFrames) or the attack is stopped. */
  readonly finished: Promise<void>;

  constructor(private spec: AttackSpec) {
    this.rng = new Prng(spec.seed);
    this.summary = {
      kind: spec.kind,
      connections: 0,
      frames: 0,
      bytes: 0,
      refused: 0,
      closedByVictim: 0,
      unread: 0,
      open: 0,
      maxOpen: 0,
      errors: {},
      ms: 0,
      done: false,
    };
    for (let i = 0; i < spec.concurrency; i++) this.slots.push(this.slot());
    this.finished = Promise.all(this.slots).then(() => {
      this.summary.done = true;
    });
  }

  /** Aims the slots' next connections at other ports (the victim's next agent). */
  retarget(ports: number[], who: VictimKnowledge): void {
    this.spec = { ...this.spec, ports, who };
  }

  /** Ends the attack and every connection it holds. */
  async stop(): Promise<AttackSummary> {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    await this.finished;
    return this.snapshot();
  }

  /** The counters so far. */
  snapshot(): AttackSummary {
    return {
      ...this.summary,
      errors: { ...this.summary.errors },
      ms: Math.round(performance.now() - this.started),
    };
  }

  private get budgetLeft(): boolean {
    return this.spec.maxFrames === undefined || this.summary.frames < this.spec.maxFrames;
  }

  private async takeToken(): Promise<void> {
    const rate = this.spec.connectRate ?? 2000;
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(rate / 10, this.tokens + ((now - this.lastRefill) * rate) / 1000);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens--;
        return;
      }
      await sleep(Math.max(1, 1000 / rate));
    }
  }

  private async slot(): Promise<void> {
    while (!this.stopped && this.budgetLeft) {
      await this.takeToken();
      if (this.stopped) return;
      const ports = this.spec.ports;
      if (ports.length === 0) {
        await sleep(20);
        continue;
      }
      const port = ports[this.portIndex++ % ports.length] as number;
      const refused = await this.connection(port);
      // An S-O port listens only while the agent dials: do not spin on its refusals.
      if (refused) await sleep(50 + this.rng.below(50));
    }
  }

  /** One connection's life; resolves true when it was refused. */
  private connection(port: number): Promise<boolean> {
    const s = this.summary;
    return new Promise((resolve) => {
      const localAddress = this.spec.spreadSources
        ? `127.${1 + this.rng.below(254)}.${this.rng.below(256)}.${1 + this.rng.below(254)}`
        : undefined;
      const socket = net.connect({ host: this.spec.host, port, localAddress, autoSelectFamily: false });
      this.sockets.add(socket);
      let connected = false;
      let weClosed = false;
      const timers: NodeJS.Timeout[] = [];
      socket.on('data', () => {});
      socket.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? e.name;
        if (code === 'ECONNREFUSED') s.refused++;
        else s.errors[code] = (s.errors[code] ?? 0) + 1;
      });
      socket.on('close', () => {
        for (const t of timers) clearTimeout(t);
        this.sockets.delete(socket);
        if (connected) {
          s.open--;
          if (!weClosed && !this.stopped) s.closedByVictim++;
        }
        resolve(!connected);
      });
      const finish = (how: 'fin' | 'rst' | 'wait') => {
        if (how === 'wait') {
          timers.push(
            setTimeout(() => {
              weClosed = true;
              socket.destroy();
            }, 50),
          );
          return;
        }
        weClosed = true;
        if (how === 'fin') socket.end(() => socket.destroy());
        else socket.resetAndDestroy();
      };
      if (this.spec.kind === 'fuzz' || this.spec.kind === 'badcreds') {
        // A victim that neither reads nor closes must not stall the attack.
        timers.push(
          setTimeout(() => {
            if (socket.writableLength > 0) s.unread++;
            weClosed = true;
            socket.destroy();
          }, 500),
        );
      }
      socket.once('connect', () => {
        connected = true;
        s.connections++;
        s.open++;
        s.maxOpen = Math.max(s.maxOpen, s.open);
        if (this.stopped) return socket.destroy();
        switch (this.spec.kind) {
          case 'idle':
            return;
          case 'drip':
            return this.drip(socket, timers);
          case 'badcreds':
            return this.badCredentials(socket, finish);
          default:
            return this.fuzz(socket, finish);
        }
      });
    });
  }

  private write(socket: net.Socket, bytes: Buffer, frames: number): void {
    this.summary.frames += frames;
    this.summary.bytes += bytes.length;
    socket.write(bytes);
  }

  private fuzz(socket: net.Socket, finish: (how: 'fin' | 'rst' | 'wait') => void): void {
    const rng = this.rng;
    const count = 1 + rng.below(32);
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) parts.push(hostileFrameBytes(rng, this.spec.who));
    const all = Buffer.concat(parts);
    if (rng.chance(0.5)) this.write(socket, all, count);
    else {
      // The same bytes cut at random points: the victim's deframer must not care where segments end.
      let at = 0;
      let first = true;
      while (at < all.length) {
        const n = 1 + rng.below(Math.min(all.length - at, 200));
        this.write(socket, all.subarray(at, at + n), first ? count : 0);
        first = false;
        at += n;
      }
    }
    finish(rng.pick(['fin', 'rst', 'wait'] as const));
  }

  private drip(socket: net.Socket, timers: NodeJS.Timeout[]): void {
    const bytes = encodeFrame(
      new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
        .username(`${this.spec.who.ufrag ?? 'x'}:drip`)
        .priority(1)
        .build({ integrityKey: shortTermKey('not-the-password-0123456789'), fingerprint: true }),
    );
    let at = 0;
    const tick = () => {
      if (socket.destroyed) return;
      this.write(socket, bytes.subarray(at, at + 1), at === 0 ? 1 : 0);
      at = (at + 1) % bytes.length;
      timers.push(setTimeout(tick, this.spec.dripIntervalMs ?? 1000));
    };
    tick();
  }

  private badCredentials(socket: net.Socket, finish: (how: 'fin' | 'rst' | 'wait') => void): void {
    const rng = this.rng;
    const count = 1 + rng.below(8);
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const ufrag = rng.chance(0.7) ? (this.spec.who.ufrag ?? 'nope') : rng.next().toString(36);
      parts.push(
        encodeFrame(
          new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
            .username(`${ufrag}:${rng.next().toString(36).slice(0, 6)}`)
            .priority(rng.next())
            .iceControlling(BigInt(rng.next()))
            .build({ integrityKey: shortTermKey(`wrong-${rng.next()}-0123456789abcdef`), fingerprint: true }),
        ),
      );
    }
    this.write(socket, Buffer.concat(parts), count);
    finish(rng.pick(['fin', 'rst', 'wait'] as const));
  }
}
