/** Test clients for the STUN server: raw TCP and UDP, collecting decoded responses. */
import dgram from 'node:dgram';
import net from 'node:net';
import { StunStreamSplitter } from '../../src/framing/index.js';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';

/** A Binding request with FINGERPRINT; `configure` may add attributes first. */
export function bindingRequest(
  configure: (b: StunMessageBuilder) => void = () => {},
  method: number = StunMethod.Binding,
  cls: StunClass = StunClass.Request,
): Buffer {
  const builder = new StunMessageBuilder(method, cls);
  configure(builder);
  return builder.build({ fingerprint: true });
}

/** Transaction id of an encoded message, as hex, to match answers to requests. */
export function tid(raw: Buffer): string {
  return raw.subarray(8, 20).toString('hex');
}

/** How a TCP client's connection ended. */
export interface Ending {
  code: string | undefined;
}

/** A raw TCP client that decodes every STUN message the server sends. */
export class TcpClient {
  readonly messages: StunMessage[] = [];
  readonly ended: Promise<Ending>;
  private readonly splitter = new StunStreamSplitter({ maxMessageSize: 65536 });
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.splitter.push(chunk)) this.messages.push(StunMessage.decode(raw));
      for (const wake of this.waiters.splice(0)) wake();
    });
    let code: string | undefined;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      code = error.code;
    });
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        for (const wake of this.waiters.splice(0)) wake();
        resolve({ code });
      }),
    );
  }

  /** Connects to the server (optionally from `localPort` and `localAddress`, e.g. another 127.x.y.z). */
  static connect(
    port: number,
    host = '127.0.0.1',
    localPort?: number,
    localAddress?: string,
  ): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localPort, localAddress, autoSelectFamily: false });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TcpClient(socket));
      });
    });
  }

  /** Resolves once `count` messages have arrived in total; rejects if the connection closes first. */
  async waitFor(count: number): Promise<StunMessage[]> {
    while (this.messages.length < count) {
      if (this.socket.destroyed) throw new Error(`closed after ${this.messages.length} of ${count} messages`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.messages.slice(0, count);
  }

  /** Sends a request and resolves with the next message. */
  async request(raw: Buffer): Promise<StunMessage> {
    const want = this.messages.length + 1;
    this.socket.write(raw);
    const all = await this.waitFor(want);
    return all[want - 1]!;
  }

  /** Closes with RST. */
  destroy(): void {
    this.socket.resetAndDestroy();
  }
}

/** Sends one datagram from a fresh UDP socket and resolves with the first answer, or undefined after `waitMs`. */
export async function udpExchange(
  port: number,
  datagrams: Buffer[],
  host = '127.0.0.1',
  waitMs = 2000,
): Promise<{ answers: StunMessage[]; localPort: number }> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  const localPort = socket.address().port;
  const answers: StunMessage[] = [];
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      socket.on('message', (m) => {
        answers.push(StunMessage.decode(m));
        // Junk gets no answer: the last datagram must be a request, whose answer ends the wait.
        if (tid(m) === tid(datagrams[datagrams.length - 1]!)) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (const d of datagrams) socket.send(d, port, host);
    });
  } finally {
    socket.close();
  }
  return { answers, localPort };
}
