import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/index.js';
import { attachSignaller } from '../../src/signalling/attach.js';
import { SdpLineSignaller, type SignalMessage } from '../../src/signalling/index.js';
import { roundTrip } from '../agent/helpers.js';
import { nextPathChange } from '../agent/restart-helpers.js';

/** ICE restart over the SDP-line form: a second a=ice-ufrag/a=ice-pwd pair is a restart. */

const LINE = 'candidate:1 1 TCP 2128609279 192.0.2.10 40000 typ host tcptype passive';
const LINE2 = 'candidate:2 1 TCP 2128609279 192.0.2.11 40001 typ host tcptype passive';
const WAIT = 15_000;
const drained = () => new Promise((r) => setImmediate(r));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function collect(s: SdpLineSignaller): SignalMessage[] {
  const got: SignalMessage[] = [];
  s.onMessage((m) => got.push(m));
  return got;
}

describe('SdpLineSignaller reading a restart', () => {
  it('with followRestarts, a second credential pair after end-of-candidates is a new parameters message', async () => {
    const input = new PassThrough();
    const s = new SdpLineSignaller(input, new PassThrough(), undefined, { followRestarts: true });
    const got = collect(s);
    input.write(`a=ice-ufrag:ufr1\na=ice-pwd:${'p'.repeat(22)}\na=${LINE}\na=end-of-candidates\n\n`);
    input.write(`a=ice-ufrag:ufr2\na=ice-pwd:${'q'.repeat(22)}\na=${LINE2}\na=end-of-candidates\n\n`);
    await drained();
    expect(got).toEqual([
      { type: 'parameters', ufrag: 'ufr1', pwd: 'p'.repeat(22) },
      { type: 'candidate', candidate: LINE },
      { type: 'end-of-candidates' },
      // never the new ufrag with the old password: the pair goes out once both lines are in
      { type: 'parameters', ufrag: 'ufr2', pwd: 'q'.repeat(22) },
      { type: 'candidate', candidate: LINE2 },
      { type: 'end-of-candidates' },
    ]);
  });

  it('without it, reading still stops at the end of the first description (the rest is application data)', async () => {
    const input = new PassThrough();
    const s = new SdpLineSignaller(input, new PassThrough());
    const got = collect(s);
    input.write(`a=ice-ufrag:ufr1\na=ice-pwd:${'p'.repeat(22)}\na=end-of-candidates\n\na=ice-ufrag:ufr2\n`);
    await drained();
    expect(got.map((m) => m.type)).toEqual(['parameters', 'end-of-candidates']);
  });
});

describe('restart between two agents signalling SDP lines', () => {
  it('the peer reads the new pair, restarts too, and the connection moves', async () => {
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const alice = new IceAgent({ role: 'controlling', addresses: ['127.0.0.1'] });
    const bob = new IceAgent({ role: 'controlled', addresses: ['127.0.0.1'] });
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    );
    const errors: unknown[] = [];
    attachSignaller(alice, new SdpLineSignaller(bToA, aToB, (e) => errors.push(e), { followRestarts: true }));
    attachSignaller(bob, new SdpLineSignaller(aToB, bToA, (e) => errors.push(e), { followRestarts: true }));
    const [ca, cb] = await Promise.all([alice.connect(), bob.connect()]);
    const bobParams = bob.localParameters;
    const moved = Promise.all([nextPathChange(ca, WAIT), nextPathChange(cb, WAIT)]);
    alice.restart();
    await moved;
    expect(bob.localParameters).not.toEqual(bobParams);
    await roundTrip(ca, cb);
    expect(errors).toEqual([]);
  });
});
