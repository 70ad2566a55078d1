import { describe, expect, it } from 'vitest';
import { buildCheckRequest, buildCheckSuccess, peerIceOptions } from '../../src/agent/check-messages.js';
import { StreamResumeNegotiation } from '../../src/agent/stream-resume.js';
import { StunAttr, StunClass, StunMessage, StunMessageBuilder, StunMethod } from '../../src/stun/index.js';

/** ICE-TCP-OPTIONS: the ICE options in a check, for a peer whose signalling lost ours (agent/stream-resume.ts). */

const request = (iceOptions?: readonly string[]) =>
  StunMessage.decode(
    buildCheckRequest({
      localUfrag: 'aaaa',
      remoteUfrag: 'bbbb',
      remotePwd: 'p'.repeat(22),
      priority: 1,
      role: 'controlling',
      tieBreaker: 1n,
      useCandidate: true,
      iceOptions,
    }).bytes,
  );

function withValue(value: Buffer): StunMessage {
  const bytes = new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .add(StunAttr.IceTcpOptions, value)
    .build({ fingerprint: true });
  return StunMessage.decode(bytes);
}

describe('ICE-TCP-OPTIONS', () => {
  it('round-trips in a request and a success response; absent when there is nothing to state', () => {
    expect(peerIceOptions(request(['icetcp+resume']))).toEqual(['icetcp+resume']);
    expect(request([]).get(StunAttr.IceTcpOptions)).toBeUndefined();
    expect(peerIceOptions(request())).toBeUndefined();
    const mapped = { family: 4, address: '127.0.0.1', port: 1 } as const;
    const success = buildCheckSuccess(request(), mapped, Buffer.alloc(16), ['a+b', 'icetcp+resume']);
    expect(peerIceOptions(StunMessage.decode(success))).toEqual(['a+b', 'icetcp+resume']);
  });

  it('a peer’s malformed tokens are skipped, an oversized value is ignored whole', () => {
    expect(peerIceOptions(withValue(Buffer.from('icetcp+resume  bad-token \u00ff x', 'latin1')))).toEqual([
      'icetcp+resume',
      'x',
    ]);
    expect(peerIceOptions(withValue(Buffer.alloc(257, 'a')))).toBeUndefined();
  });
});

describe('the negotiation with options from the checks', () => {
  it('states our option in checks only once the peer advertised it, and takes the peer’s from its checks', () => {
    const lostTheirs = new StreamResumeNegotiation(true);
    expect(lostTheirs.inChecks()).toEqual([]);
    lostTheirs.fromPeer(['icetcp+resume']);
    const params = { ufrag: 'aaaa', pwd: 'p'.repeat(22) };
    expect(lostTheirs.keysFor(params, params)).toBeDefined();

    const sawTheirs = new StreamResumeNegotiation(true);
    sawTheirs.onRemoteOptions(['icetcp+resume']);
    expect(sawTheirs.inChecks()).toEqual(['icetcp+resume']);

    const off = new StreamResumeNegotiation(false);
    off.onRemoteOptions(['icetcp+resume']);
    off.fromPeer(['icetcp+resume']);
    expect(off.inChecks()).toEqual([]);
    expect(off.keysFor(params, params)).toBeUndefined();
  });

  it('decided at the first selection: later check options change nothing', () => {
    const n = new StreamResumeNegotiation(true);
    const params = { ufrag: 'aaaa', pwd: 'p'.repeat(22) };
    expect(n.keysFor(params, params)).toBeUndefined();
    n.fromPeer(['icetcp+resume']);
    expect(n.keysFor(params, params)).toBeUndefined();
    expect(n.inChecks()).toEqual([]);
  });
});
