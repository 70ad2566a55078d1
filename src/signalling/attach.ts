import type { IceParameters } from '../agent/credentials.js';
import type { IceAgent } from '../agent.js';
import { formatCandidate } from '../candidate/sdp.js';
import type { Candidate } from '../candidate/types.js';
import type { IceConnection } from '../connection/ice-connection.js';
import { type IceTcpError, SignallingError, wrapError } from '../errors.js';
import type { Signaller, SignalMessage } from './messages.js';

/**
 * Wires an agent to a signaller, trickle both ways: sends our parameters, each local candidate as it is
 * gathered and end-of-candidates; applies the peer's messages to the agent. Errors in the peer's messages
 * are reported through `onError` (default: the agent's `'error'` event) and skipped. While attached, an ICE
 * restart travels too: our new parameters and candidates are sent, the peer's new parameters restart the
 * agent. Returns a function that detaches it.
 */
export function attachSignaller(
  agent: IceAgent,
  signaller: Signaller,
  onError: (err: IceTcpError) => void = (err) => agent.emit('error', err),
): () => void {
  const send = (message: SignalMessage) => {
    Promise.resolve(signaller.send(message)).catch((err: unknown) =>
      onError(new SignallingError('signaller failed to send', { cause: err })),
    );
  };
  const onCandidate = (c: Candidate | null) => {
    if (c === null) {
      // gathering is over, so our NAT behaviour is known: the same credentials again, with it
      const p = agent.localParameters;
      if (p.nat) send({ type: 'parameters', ...p });
      send({ type: 'end-of-candidates' });
    } else send({ type: 'candidate', candidate: formatCandidate(c) });
  };
  // an ICE restart: the new parameters first, the new generation's candidates follow in order
  const onParameters = (p: IceParameters) => send({ type: 'parameters', ...p });
  send({ type: 'parameters', ...agent.localParameters });
  // candidates gathered before we attached are not lost: replay them from the description
  for (const line of agent.localDescription()) {
    if (line.startsWith('a=candidate:')) send({ type: 'candidate', candidate: line.slice(2) });
  }
  if (agent.gatheringState === 'complete') send({ type: 'end-of-candidates' });
  // once gathering is complete, candidates come only from a restart's gathering
  agent.on('candidate', onCandidate);
  agent.on('parameters', onParameters);

  const unsubscribe = signaller.onMessage((message) => {
    try {
      switch (message.type) {
        case 'parameters':
          agent.setRemoteParameters({
            ufrag: message.ufrag,
            pwd: message.pwd,
            options: message.options,
            ...(message.lite && { lite: true }),
            nat: message.nat,
          });
          break;
        case 'candidate':
          agent.addRemoteCandidate(message.candidate);
          break;
        case 'end-of-candidates':
          agent.addRemoteCandidate(null);
          break;
      }
    } catch (err) {
      onError(wrapError(err, 'bad signalling message', 'signalling'));
    }
  });
  return () => {
    agent.off('candidate', onCandidate);
    agent.off('parameters', onParameters);
    unsubscribe();
  };
}

/** Attaches the signaller, gathers and connects: the whole offer/answer in one call. */
export async function connectWithSignaller(agent: IceAgent, signaller: Signaller): Promise<IceConnection> {
  const detach = attachSignaller(agent, signaller);
  try {
    const connecting = agent.connect();
    await agent.gather();
    return await connecting;
  } finally {
    detach();
  }
}
