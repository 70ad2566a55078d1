import {
  StunAttr,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
} from '../../src/stun/index.js';

/** A message carrying every attribute this codec knows, signed with `key`: the richest seed to mutate. */
export function everyAttributeMessage(key: Buffer): Buffer {
  return new StunMessageBuilder(StunMethod.Allocate, StunClass.ErrorResponse)
    .username('user:name')
    .priority(12345)
    .useCandidate()
    .iceControlling(42n)
    .iceControlled(43n)
    .xorMappedAddress({ family: 4, address: '198.51.100.1', port: 3478 })
    .mappedAddress({ family: 6, address: '2001:db8::9', port: 1 })
    .xorPeerAddress({ family: 6, address: '2001:db8::a', port: 2 })
    .xorRelayedAddress({ family: 4, address: '203.0.113.2', port: 3 })
    .otherAddress({ family: 4, address: '192.0.2.3', port: 4 })
    .responseOrigin({ family: 6, address: '::1', port: 5 })
    .errorCode(438)
    .unknownAttributes([0x7777, 0x0001])
    .software('fuzz ünïcödé')
    .realm('example.org')
    .nonce('nonce')
    .lifetime(600)
    .connectionId(7)
    .requestedTransport(6)
    .data(Buffer.from('payload'))
    .add(0x7777, Buffer.from('?'))
    .build({ integrityKey: key, fingerprint: true });
}

/**
 * Reads a decoded message through every getter and check it offers, so that a fuzzer reaches the lazily
 * parsed attribute values too.
 */
export function readEverything(m: StunMessage, key: Buffer): void {
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
