import { buildCheckRequest } from '../../src/agent/check-messages.js';
import { encodeFrame } from '../../src/framing/public.js';
import type { IceAgent } from '../../src/index.js';

/**
 * An RFC 4571 frame holding a valid check to `agent`, as a controlling peer with ufrag `peer` would send it on a
 * connection it opened (no USE-CANDIDATE).
 */
export function peerCheckFrame(agent: IceAgent): Buffer {
  return encodeFrame(
    buildCheckRequest({
      localUfrag: 'peer',
      remoteUfrag: agent.localParameters.ufrag,
      remotePwd: agent.localParameters.pwd,
      priority: 1234,
      role: 'controlling',
      tieBreaker: 42n,
      useCandidate: false,
    }).bytes,
  );
}
