import type { IceAgent } from '../agent.js';
import { formatCandidate } from '../candidate/sdp.js';
import type { Candidate } from '../candidate/types.js';
import type { IceConnection } from '../connection/ice-connection.js';
import { type IceTcpError, SignallingError, wrapError } from '../errors.js';
import type { Signaller, SignalMessage } from './messages.js';

/**
 * Wires an agent to a signaller, trickle both ways: sends our parameters, each local candidate as it is
 * gathered and end-of-candidates; applies the peer's messages to the agent. Errors in the peer's messages
 * are reported through `onError` (default: the agent's `'error'` event) and skipped. Returns a function that
 * detaches it.
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
    if (c === null) send({ type: 'end-of-candidates' });
    else send({ type: 'candidate', candidate: formatCandidate(c) });
  };
  send({ type: 'parameters', ...agent.localParameters });
  // candidates gathered before we attached are not lost: replay them from the description
  for (const line of agent.localDescription()) {
    if (line.startsWith('a=candidate:')) send({ type: 'candidate', candidate: line.slice(2) });
  }
  const alreadyComplete = agent.gatheringState === 'complete';
  if (alreadyComplete) send({ type: 'end-of-candidates' });
  else agent.on('candidate', onCandidate);

  const unsubscribe = signaller.onMessage((message) => {
    try {
      switch (message.type) {
        case 'parameters':
          agent.setRemoteParameters({ ufrag: message.ufrag, pwd: message.pwd });
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
