import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../src/agent.js';
import { CandidateLimitError, type IceTcpError, InvalidArgumentError } from '../../src/errors.js';
import { attachSignaller, createInMemorySignallerPair } from '../../src/signalling/index.js';

const agents: IceAgent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.close();
});

function agent(options: ConstructorParameters<typeof IceAgent>[0] = {}): IceAgent {
  const a = new IceAgent({ addresses: ['127.0.0.1'], tcpTypes: ['passive'], ...options });
  agents.push(a);
  return a;
}

/** A distinct candidate line per index (192.0.2.0/24, ports from 20000). */
function line(i: number): string {
  return `candidate:${i + 1} 1 TCP 2128609279 192.0.2.${(i % 250) + 1} ${20_000 + i} typ host tcptype passive`;
}

/**
 * Issue 8 item 14: 15,000 remote candidates cost 16.8 s of CPU. The agent keeps at most maxRemoteCandidates;
 * every one past it is a typed error (thrown, or 'error' when it came through signalling) and is dropped.
 */
describe('maxRemoteCandidates', () => {
  it('throws CandidateLimitError for each candidate past the limit; repeats are not counted', () => {
    const a = agent({ maxRemoteCandidates: 3 });
    for (let i = 0; i < 3; i++) a.addRemoteCandidate(line(i));
    a.addRemoteCandidate(line(0));
    expect(() => a.addRemoteCandidate(line(3))).toThrow(CandidateLimitError);
    expect(() => a.addRemoteCandidate(line(4))).toThrow(
      expect.objectContaining({ code: 'ERR_CANDIDATE_LIMIT', limit: 3 }),
    );
    expect(() => a.addRemoteCandidate(null)).not.toThrow();
  });

  it('defaults to 100, and 15,000 candidates are refused cheaply', { timeout: 5000 }, () => {
    const a = agent();
    a.setRemoteParameters({ ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuvwx' });
    let refused = 0;
    for (let i = 0; i < 15_000; i++) {
      try {
        a.addRemoteCandidate(line(i));
      } catch (err) {
        expect(err).toBeInstanceOf(CandidateLimitError);
        refused++;
      }
    }
    expect(refused).toBe(14_900);
  });

  it("setRemoteDescription keeps the first ones, emits 'error' per extra and applies end-of-candidates", () => {
    const a = agent({ maxRemoteCandidates: 2 });
    const errors: IceTcpError[] = [];
    a.on('error', (e) => errors.push(e));
    const lines = ['a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx'];
    for (let i = 0; i < 5; i++) lines.push(`a=${line(i)}`);
    lines.push('a=end-of-candidates');
    expect(() => a.setRemoteDescription(lines)).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual([
      'ERR_CANDIDATE_LIMIT',
      'ERR_CANDIDATE_LIMIT',
      'ERR_CANDIDATE_LIMIT',
    ]);
  });

  it("through a signaller, each extra candidate is an 'error' event", async () => {
    const a = agent({ maxRemoteCandidates: 1 });
    const errors: IceTcpError[] = [];
    a.on('error', (e) => errors.push(e));
    const [mine, theirs] = createInMemorySignallerPair();
    const detach = attachSignaller(a, mine);
    for (let i = 0; i < 3; i++) theirs.send({ type: 'candidate', candidate: line(i) });
    // the in-memory signaller delivers each message in a setImmediate of its own, in order: ours comes after
    await new Promise((r) => setImmediate(r));
    detach();
    expect(errors.map((e) => e.code)).toEqual(['ERR_CANDIDATE_LIMIT', 'ERR_CANDIDATE_LIMIT']);
  });

  it('rejects a limit that is not a positive integer', () => {
    for (const maxRemoteCandidates of [0, -1, 1.5, Number.NaN]) {
      expect(() => agent({ maxRemoteCandidates })).toThrow(InvalidArgumentError);
    }
  });
});
