/**
 * A broken or malicious STUN/TURN server (plain STUN over TCP, no RFC 4571): every request gets a hostile
 * answer with its own transaction id: odd ERROR-CODEs, 401s whose REALM or NONCE is not UTF-8, addresses of
 * the wrong size, mutated messages re-sealed with the long-term key (so that they pass MESSAGE-INTEGRITY), and
 * noise. It exercises server-reflexive gathering, the TURN client and the NAT probe.
 */
import net from 'node:net';
import { longTermKey, StunAttr, StunClass, StunMessageBuilder } from '../../../src/stun/index.js';
import { mutate, reseal } from './mutate.js';
import type { Prng } from './prng.js';

/** The TURN credentials the victim is configured with, and the realm this server announces. */
export const HOSTILE_TURN = { username: 'user', password: 'pass', realm: 'hostile.test' };

const BAD_TEXT = [
  Buffer.from([0xff, 0xfe]),
  Buffer.from([0xc3, 0x28, 0x61]),
  Buffer.alloc(800, 0x61),
  Buffer.alloc(0),
];

function methodOf(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}

function answer(rng: Prng, method: number, txid: Buffer): Buffer {
  const key = longTermKey(HOSTILE_TURN.username, HOSTILE_TURN.realm, HOSTILE_TURN.password);
  const err = () => new StunMessageBuilder(method, StunClass.ErrorResponse, txid);
  const ok = () => new StunMessageBuilder(method, StunClass.SuccessResponse, txid);
  let m: Buffer;
  switch (rng.below(7)) {
    case 0:
      m = err()
        .add(
          StunAttr.ErrorCode,
          Buffer.concat([
            Buffer.from([0, 0, rng.pick([0, 1, 2, 4, 7, 9]), rng.pick([0, 1, 38, 99, 100, 255])]),
            rng.pick(BAD_TEXT),
          ]),
        )
        .build({ fingerprint: rng.chance(0.5) });
      break;
    case 1:
      m = err()
        .errorCode(rng.pick([401, 438]))
        .add(StunAttr.Realm, rng.chance(0.5) ? rng.pick(BAD_TEXT) : Buffer.from(HOSTILE_TURN.realm))
        .add(StunAttr.Nonce, rng.chance(0.5) ? rng.pick(BAD_TEXT) : Buffer.from('nonce'))
        .build({ fingerprint: rng.chance(0.5) });
      break;
    case 2:
      m = ok()
        .add(
          rng.pick([
            StunAttr.XorMappedAddress,
            StunAttr.XorRelayedAddress,
            StunAttr.MappedAddress,
            StunAttr.OtherAddress,
          ]),
          rng.bytes(rng.pick([0, 4, 7, 8, 20, 21])),
        )
        .add(StunAttr.Lifetime, rng.bytes(rng.pick([0, 3, 4, 8])))
        .build({ integrityKey: key, fingerprint: true });
      break;
    case 3:
      m = ok()
        .xorMappedAddress({ family: 4, address: '127.0.0.1', port: rng.below(65536) })
        .xorRelayedAddress({
          family: 4,
          address: rng.pick(['127.0.0.1', '0.0.0.0', '255.255.255.255']),
          port: rng.below(65536),
        })
        .lifetime(rng.pick([0, 1, 0xffffffff]))
        .otherAddress({ family: 4, address: '127.0.0.1', port: rng.below(65536) })
        .connectionId(rng.next())
        .build({ integrityKey: key, fingerprint: true });
      break;
    case 4:
      return rng.bytes(1 + rng.below(40));
    default: {
      const base = ok()
        .xorMappedAddress({ family: 4, address: '127.0.0.1', port: 1 + rng.below(65535) })
        .xorRelayedAddress({ family: 4, address: '127.0.0.1', port: 1 + rng.below(65535) })
        .lifetime(600)
        .software('hostile')
        .build({ integrityKey: key, fingerprint: true });
      m = mutate(rng, base);
      if (m.length >= 20) txid.copy(m, 8);
      m = reseal(m, key);
    }
  }
  return m;
}

/** What the server saw. */
export interface HostileServerSummary {
  connections: number;
  requests: number;
}

/** Listens on a loopback port and answers every STUN request badly. */
export class HostileStunServer {
  readonly summary: HostileServerSummary = { connections: 0, requests: 0 };
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly rng: Prng,
  ) {}

  /** Starts listening; `port` says where. */
  static async start(rng: Prng): Promise<{ server: HostileStunServer; port: number }> {
    const raw = net.createServer();
    const s = new HostileStunServer(raw, rng);
    raw.on('connection', (socket) => s.onConnection(socket));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    return { server: s, port: (raw.address() as net.AddressInfo).port };
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<HostileServerSummary> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
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
      while (pending.length >= 20 && pending.length >= 20 + pending.readUInt16BE(2)) {
        const message = pending.subarray(0, 20 + pending.readUInt16BE(2));
        pending = pending.subarray(message.length);
        this.summary.requests++;
        const out = answer(this.rng, methodOf(message.readUInt16BE(0)), Buffer.from(message.subarray(8, 20)));
        if (this.rng.chance(0.1)) socket.end(out);
        else socket.write(out);
      }
    });
  }
}
