/**
 * A malicious peer's passive candidates: listeners that answer each of the victim's checks with a hostile
 * response carrying the check's own transaction id, signed with the peer's password (which a malicious peer
 * knows), so that the mutation reaches the victim's response handling; and sometimes a hostile request of its
 * own on the same connection.
 */
import net from 'node:net';
import { encodeFrame } from '../../../src/framing/index.js';
import {
  StunAttr,
  StunClass,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../../src/stun/index.js';
import { hostilePayload, mutate, reseal, type VictimKnowledge } from './mutate.js';
import type { Prng } from './prng.js';

/** What a responder saw and did. */
export interface ResponderSummary {
  connections: number;
  requests: number;
  responses: number;
}

/** The malicious peer's ufrag and password, to put in its description. */
export const EVIL = { ufrag: 'evil', pwd: 'evilpassword0123456789abcdef' };

const BAD_REASONS = [Buffer.from([0xff, 0xfe]), Buffer.from('ok'), Buffer.from([0xc3, 0x28])];

/** A response to the request whose transaction id is `txid`: odd error codes, odd addresses, 487, success. */
function hostileResponse(rng: Prng, txid: Buffer, who: VictimKnowledge): Buffer {
  const key = shortTermKey(EVIL.pwd);
  let m: Buffer;
  switch (rng.below(5)) {
    case 0:
      m = new StunMessageBuilder(StunMethod.Binding, StunClass.ErrorResponse, txid)
        .add(
          StunAttr.ErrorCode,
          Buffer.concat([
            Buffer.from([0, 0, rng.pick([0, 1, 2, 3, 4, 6, 7, 9, 0xff]), rng.pick([0, 1, 87, 99, 100, 255])]),
            rng.pick(BAD_REASONS),
          ]),
        )
        .build({ integrityKey: key, fingerprint: true });
      break;
    case 1:
      m = new StunMessageBuilder(StunMethod.Binding, StunClass.ErrorResponse, txid)
        .errorCode(487)
        .build({ integrityKey: key, fingerprint: true });
      break;
    case 2:
      m = new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, txid)
        .xorMappedAddress({ family: 4, address: '127.0.0.1', port: 1 + rng.below(65535) })
        .build({ integrityKey: key, fingerprint: true });
      break;
    case 3:
      m = new StunMessageBuilder(StunMethod.Binding, StunClass.SuccessResponse, txid)
        .add(StunAttr.XorMappedAddress, rng.bytes(rng.pick([0, 4, 8, 20, 21])))
        .add(0x7777, rng.bytes(rng.below(10)))
        .build({ integrityKey: key, fingerprint: true });
      break;
    default:
      m = hostilePayload(rng, who);
  }
  if (rng.chance(0.5)) {
    m = mutate(rng, m);
    // The transaction id must survive the mutation to reach the code that matches responses to checks.
    if (m.length >= 20) txid.copy(m, 8);
    m = reseal(m, key);
  }
  return m;
}

/** Listeners on `count` ports; stop() closes them and every connection. */
export class HostileResponder {
  readonly summary: ResponderSummary = { connections: 0, requests: 0, responses: 0 };
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly rng: Prng,
    private readonly who: VictimKnowledge,
  ) {}

  /** Listens on `count` loopback ports. */
  static async start(
    rng: Prng,
    who: VictimKnowledge,
    count: number,
  ): Promise<{ responder: HostileResponder; ports: number[] }> {
    const r = new HostileResponder(rng, who);
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer((s) => r.onConnection(s));
      r.servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ports.push((server.address() as net.AddressInfo).port);
    }
    return { responder: r, ports };
  }

  /** Closes the listeners and connections. */
  async stop(): Promise<ResponderSummary> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    return { ...this.summary };
  }

  private onConnection(socket: net.Socket): void {
    this.summary.connections++;
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const frame = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + frame.length);
        if (frame.length < 20 || (frame[0] ?? 0) >= 0x40) continue;
        this.summary.requests++;
        const txid = Buffer.from(frame.subarray(8, 20));
        const out = [encodeFrame(hostileResponse(this.rng, txid, this.who))];
        if (this.rng.chance(0.3)) out.push(encodeFrame(hostilePayload(this.rng, this.who)));
        this.summary.responses++;
        socket.write(Buffer.concat(out));
      }
    });
  }
}

/** For the signalling of the malicious peer: its passive candidates at `ports`. */
export function evilDescription(ports: number[]): string[] {
  return [
    `a=ice-ufrag:${EVIL.ufrag}`,
    `a=ice-pwd:${EVIL.pwd}`,
    ...ports.map(
      (port, i) => `a=candidate:${i + 1} 1 TCP ${2128609279 - i} 127.0.0.1 ${port} typ host tcptype passive`,
    ),
    'a=end-of-candidates',
  ];
}
