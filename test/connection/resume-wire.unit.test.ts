import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeResumeControl,
  decodeResumeFrame,
  encodeResumeControl,
} from '../../src/connection/resume-wire.js';
import { isStunFrame } from '../../src/framing/index.js';
import {
  StunAttr,
  StunClass,
  StunMessage,
  StunMessageBuilder,
  StunMethod,
  shortTermKey,
} from '../../src/stun/index.js';

const OURS = shortTermKey('localpasswordlocalpassword');
const PEERS = shortTermKey('remotepasswordremotepassword');

describe('resume control messages on the wire', () => {
  it('round-trips ACK and RESUME with 64-bit counts, as a signed Binding indication with FINGERPRINT', () => {
    for (const [kind, bytes] of [
      ['ack', 0],
      ['resume', 1],
      ['ack', 2 ** 32 + 5],
      ['resume', Number.MAX_SAFE_INTEGER],
      ['end', 77],
    ] as const) {
      const frame = encodeResumeControl({ kind, bytes }, PEERS);
      // what the link's classification needs to see it as STUN at all
      expect(isStunFrame(frame)).toBe(true);
      const m = StunMessage.decode(frame);
      expect(m.isIndication()).toBe(true);
      expect(m.method).toBe(StunMethod.Binding);
      expect(m.verifyFingerprint()).toBe(true);
      expect(m.verifyIntegrity(PEERS)).toBe(true);
      expect(m.get(StunAttr.IceTcpResume)?.length).toBe(12);
      expect(decodeResumeFrame(frame, PEERS)).toEqual({ kind, bytes });
    }
  });

  it('is not ours unless signed with the peer key: application data that speaks STUN stays data', () => {
    const forged = encodeResumeControl({ kind: 'resume', bytes: 0 }, OURS);
    expect(decodeResumeFrame(forged, PEERS)).toBeUndefined();
    const unsigned = new StunMessageBuilder(StunMethod.Binding, StunClass.Indication)
      .add(StunAttr.IceTcpResume, Buffer.alloc(12))
      .build({ fingerprint: true });
    expect(decodeResumeFrame(unsigned, PEERS)).toBeUndefined();
    const request = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
      .add(StunAttr.IceTcpResume, Buffer.alloc(12))
      .build({ integrityKey: PEERS, fingerprint: true });
    expect(decodeResumeFrame(request, PEERS)).toBeUndefined();
    const keepalive = new StunMessageBuilder(StunMethod.Binding, StunClass.Indication).build({
      integrityKey: PEERS,
      fingerprint: true,
    });
    expect(decodeResumeFrame(keepalive, PEERS)).toBeUndefined();
  });

  it('a flipped bit anywhere makes the frame not ours (integrity or fingerprint fails)', () => {
    const frame = encodeResumeControl({ kind: 'ack', bytes: 123456789 }, PEERS);
    for (let i = 0; i < frame.length * 8; i++) {
      const copy = Buffer.from(frame);
      copy[i >> 3] = (copy[i >> 3] as number) ^ (1 << (i & 7));
      expect(decodeResumeFrame(copy, PEERS), `bit ${i}`).toBeUndefined();
    }
  });

  it('random data frames are never taken for control messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        expect(decodeResumeFrame(Buffer.from(data), PEERS)).toBeUndefined();
      }),
    );
  });

  it('a signed message with a malformed value is a typed protocol error', () => {
    for (const value of [Buffer.alloc(8), Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])]) {
      const frame = new StunMessageBuilder(StunMethod.Binding, StunClass.Indication)
        .add(StunAttr.IceTcpResume, value)
        .build({ integrityKey: PEERS, fingerprint: true });
      expect(() => decodeResumeControl(StunMessage.decode(frame), PEERS)).toThrow(
        expect.objectContaining({ code: 'ERR_RESUME' }),
      );
    }
    const huge = Buffer.alloc(12);
    huge[0] = 1;
    huge.writeBigUInt64BE(2n ** 53n, 4);
    const frame = new StunMessageBuilder(StunMethod.Binding, StunClass.Indication)
      .add(StunAttr.IceTcpResume, huge)
      .build({ integrityKey: PEERS, fingerprint: true });
    expect(() => decodeResumeFrame(frame, PEERS)).toThrow(/out of range/);
  });
});
