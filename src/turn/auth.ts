import createDebug from 'debug';
import { TurnError } from '../errors.js';
import { longTermKey, type StunMessage, type StunMessageBuilder } from '../stun/index.js';
import { turnErrorFor } from './errors.js';

const log = createDebug('ice-tcp:turn:auth');

/** Sends one request and resolves with its answer (control connection or a data connection). */
export type Transact = (bytes: Buffer, transactionId: Buffer, signal: AbortSignal) => Promise<StunMessage>;

/**
 * Long-term credential state (RFC 8489 §9.2) shared by the control connection and every data connection of
 * one allocation: the REALM and NONCE the server handed out and the key MD5(username:realm:password).
 */
export class LongTermCredentials {
  private realm: string | undefined;
  private nonce: string | undefined;
  private key: Buffer | undefined;

  constructor(
    readonly username: string,
    private readonly password: string,
  ) {}

  /** Whether a challenge was answered already, so requests can carry MESSAGE-INTEGRITY. */
  get ready(): boolean {
    return this.key !== undefined && this.nonce !== undefined;
  }

  /** Builds the request: signed with USERNAME/REALM/NONCE/MESSAGE-INTEGRITY once the realm is known. */
  sign(builder: StunMessageBuilder): Buffer {
    if (!this.ready || this.realm === undefined || this.nonce === undefined)
      return builder.build({ fingerprint: true });
    return builder
      .username(this.username)
      .realm(this.realm)
      .nonce(this.nonce)
      .build({ integrityKey: this.key, fingerprint: true });
  }

  /** Takes REALM and NONCE from a 401 or 438 answer; false when the answer lacks what is needed. */
  learn(response: StunMessage): boolean {
    const realm = response.realm() ?? this.realm;
    const nonce = response.nonce();
    if (realm === undefined || nonce === undefined) return false;
    if (realm !== this.realm || this.key === undefined)
      this.key = longTermKey(this.username, realm, this.password);
    this.realm = realm;
    this.nonce = nonce;
    return true;
  }

  /** Whether a response's MESSAGE-INTEGRITY is absent (acceptable) or matches our key. */
  verify(response: StunMessage): boolean {
    if (!response.hasIntegrity() || this.key === undefined) return true;
    return response.verifyIntegrity(this.key);
  }
}

/**
 * One authenticated TURN transaction: an unauthenticated first try answered by 401 is retried with the
 * credentials, a 438 (Stale Nonce) is retried once with the new NONCE, responses carrying MESSAGE-INTEGRITY
 * are verified. Resolves with the success response; error responses become typed {@link TurnError}s.
 */
export async function authenticatedRequest(
  transact: Transact,
  credentials: LongTermCredentials,
  make: () => StunMessageBuilder,
  what: string,
  signal: AbortSignal,
): Promise<StunMessage> {
  let challenged = false;
  let staleRetried = false;
  for (;;) {
    const builder = make();
    const signed = credentials.ready;
    const response = await transact(credentials.sign(builder), builder.transactionId, signal);
    const error = response.isError()
      ? (response.errorCode() ?? { code: 0, reason: 'no ERROR-CODE' })
      : undefined;
    if (error?.code === 401 && !signed && !challenged) {
      challenged = true;
      if (!credentials.learn(response))
        throw new TurnError(`${what}: 401 without REALM/NONCE`, 401, 'ERR_TURN_AUTH');
      continue;
    }
    if (error?.code === 438 && !staleRetried) {
      staleRetried = true;
      log('%s: stale nonce, retrying with the new one', what);
      if (!credentials.learn(response)) throw new TurnError(`${what}: 438 without NONCE`, 438, 'ERR_TURN');
      continue;
    }
    if (error?.code !== 401 && error?.code !== 438 && !credentials.verify(response)) {
      throw new TurnError(`${what}: response failed the MESSAGE-INTEGRITY check`, error?.code, 'ERR_TURN');
    }
    if (error) {
      if (error.code === 401) {
        throw new TurnError(
          `${what} failed: 401 ${error.reason} — the server rejected username ${JSON.stringify(credentials.username)} ` +
            'with this password (wrong password or unknown user)',
          401,
          'ERR_TURN_AUTH',
        );
      }
      throw turnErrorFor(what, error.code, error.reason);
    }
    return response;
  }
}
