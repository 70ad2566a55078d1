import { StunAttr, StunMessage } from '../../src/stun/index.js';

/**
 * Decodes `buf` and reads it through every getter and check the message offers, so that a fuzzer reaches the
 * lazily parsed attribute values too. Throws whatever the parser throws.
 */
export function readEverything(buf: Buffer, key: Buffer): void {
  const m = StunMessage.decode(buf);
  void [m.method, m.cls, m.transactionId, m.raw];
  for (const a of m.attributes) m.get(a.type);
  m.has(StunAttr.Username);
  m.username();
  m.priority();
  m.useCandidate();
  m.iceControlling();
  m.iceControlled();
  m.xorMappedAddress();
  m.mappedAddress();
  m.xorPeerAddress();
  m.xorRelayedAddress();
  m.otherAddress();
  m.responseOrigin();
  m.errorCode();
  m.unknownAttributes();
  m.software();
  m.realm();
  m.nonce();
  m.lifetime();
  m.connectionId();
  m.requestedTransport();
  m.data();
  m.unknownComprehensionRequired();
  m.hasIntegrity();
  m.hasFingerprint();
  m.verifyIntegrity(key);
  m.verifyFingerprint();
  m.isRequest();
  m.isSuccess();
  m.isError();
  m.isIndication();
}
