import { afterEach, describe, expect, it } from 'vitest';
import { ResumableDuplex } from '../../src/connection/resumable-duplex.js';
import type { IceAgent, IceAgentOptions } from '../../src/index.js';
import { agentPair, connectViaDescriptions, loopbackAgent, sha256Of, writeRandom } from './helpers.js';

/** `icetcp+resume` (README, "Seamless path switch"): advertised, negotiated, and off when either side lacks it. */

const WAIT = 20_000;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function agent(options: IceAgentOptions): IceAgent {
  return loopbackAgent(options, cleanups);
}

/** Two agents that exchange their descriptions in one go (the SDP-line form). */
const viaDescriptions = (a: IceAgent, b: IceAgent) => connectViaDescriptions(a, b);

describe('advertising icetcp+resume', () => {
  it('in the description and the parameters; not with streamResume: false', async () => {
    const on = agent({});
    expect(on.localDescription()).toContain('a=ice-options:trickle icetcp+resume');
    expect(on.localParameters.options).toEqual(['icetcp+resume']);
    const off = agent({ streamResume: false });
    expect(off.localDescription()).toContain('a=ice-options:trickle');
    expect(off.localDescription().join('\n')).not.toContain('icetcp+resume');
    expect(off.localParameters.options).toBeUndefined();
    expect(() => agent({ streamResume: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('both sides advertise it (SDP-line form): the stream is resumable', async () => {
    const [ca, cb] = await viaDescriptions(agent({ role: 'controlling' }), agent({ role: 'controlled' }));
    expect(ca.stream()).toBeInstanceOf(ResumableDuplex);
    expect(cb.stream()).toBeInstanceOf(ResumableDuplex);
  });

  it('the options arriving after the credentials (a line reader sends them again with the options line)', async () => {
    const a = agent({ role: 'controlling' });
    const b = agent({ role: 'controlled' });
    await Promise.all([a.gather(), b.gather()]);
    const { ufrag, pwd } = a.localParameters;
    b.setRemoteParameters({ ufrag, pwd });
    b.setRemoteDescription(a.localDescription());
    a.setRemoteDescription(b.localDescription());
    const [ca, cb] = await Promise.all([a.connect(), b.connect()]);
    expect(ca.stream()).toBeInstanceOf(ResumableDuplex);
    expect(cb.stream()).toBeInstanceOf(ResumableDuplex);
  });

  it('a peer without it (SDP-line form, no option): plain RFC 4571 stream on both sides', async () => {
    const [ca, cb] = await viaDescriptions(
      agent({ role: 'controlling' }),
      agent({ role: 'controlled', streamResume: false }),
    );
    expect(ca.stream()).not.toBeInstanceOf(ResumableDuplex);
    expect(cb.stream()).not.toBeInstanceOf(ResumableDuplex);
  });
});

describe('a side that calls stream() late', () => {
  it('gets every byte and the end the peer sent before it: its control messages were kept, not taken as ICE’s', async () => {
    const p = agentPair(
      { role: 'controlling', addresses: ['127.0.0.1'] },
      { role: 'controlled', addresses: ['127.0.0.1'] },
    );
    cleanups.push(() => p.close());
    const [ca, cb] = await Promise.all([p.alice.connect(), p.bob.connect()]);
    const sa = ca.stream();
    const n = 1024 * 1024;
    const sent = await writeRandom(sa, n, 7);
    sa.end();
    // everything alice wrote, her END included, has reached bob's connection before bob takes the stream
    const deadline = performance.now() + WAIT;
    while (cb.bytes.received < ca.bytes.sent) {
      if (performance.now() > deadline) throw new Error('bytes did not arrive');
      await new Promise((r) => setTimeout(r, 5));
    }
    const sb = cb.stream();
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no end')), WAIT);
      sb.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    expect(await sha256Of(sb, n)).toBe(sent);
    sb.resume();
    await ended;
    // alice's end() finishes once bob acknowledged her END
    await new Promise<void>((resolve) => (sa.writableFinished ? resolve() : sa.once('finish', resolve)));
  });
});
