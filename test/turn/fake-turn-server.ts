import net from 'node:net';
import {
  longTermKey,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  stunMessageLength,
} from '../../src/stun/index.js';

/** Credentials the fake server accepts. */
export const FAKE = { username: 'u', password: 'p', realm: 'fake.realm' } as const;
/** The long-term key for {@link FAKE}. */
export const FAKE_KEY = longTermKey(FAKE.username, FAKE.realm, FAKE.password);

/** What a handler gets for one request. */
export interface FakeRequest {
  message: StunMessage;
  socket: net.Socket;
  /** Index of the TCP connection it came on (0 = first one accepted). */
  connection: number;
}

/** A scripted TURN server for unit tests: the handler answers each STUN message by hand. */
export interface FakeTurnServer {
  port: number;
  received: FakeRequest[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** Starts the fake server on 127.0.0.1; `handler` sees every STUN message any connection sends. */
export function startFakeTurn(handler: (req: FakeRequest) => void): Promise<FakeTurnServer> {
  const received: FakeRequest[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    const connection = sockets.length;
    sockets.push(socket);
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const total = stunMessageLength(buffered);
        if (total === undefined || buffered.length < total) return;
        const message = StunMessage.decode(Buffer.from(buffered.subarray(0, total)));
        buffered = buffered.subarray(total);
        const req = { message, socket, connection };
        received.push(req);
        handler(req);
      }
    };
    socket.on('data', onData);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        received,
        sockets,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** A response builder for `req` of class success or error. */
export function answer(
  req: FakeRequest,
  cls: typeof StunClass.SuccessResponse | typeof StunClass.ErrorResponse,
) {
  return new StunMessageBuilder(req.message.method, cls, Buffer.from(req.message.transactionId));
}

/**
 * The usual long-term challenge: unsigned → 401 (realm, nonce `n1`); signed with a wrong key → 401;
 * returns true when the request is signed correctly with the current nonce and should be served.
 */
export function challenge(req: FakeRequest, nonce = 'n1'): boolean {
  const m = req.message;
  if (!m.hasIntegrity() || !m.verifyIntegrity(FAKE_KEY)) {
    req.socket.write(
      answer(req, StunClass.ErrorResponse).errorCode(401).realm(FAKE.realm).nonce(nonce).build(),
    );
    return false;
  }
  if (m.nonce() !== nonce) {
    req.socket.write(
      answer(req, StunClass.ErrorResponse).errorCode(438).realm(FAKE.realm).nonce(nonce).build(),
    );
    return false;
  }
  return true;
}
