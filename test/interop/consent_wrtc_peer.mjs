// libwebrtc (Chrome's ICE, through @roamhq/wrtc) as a peer for the consent-freshness interop test, in a process
// of its own so that the test can freeze it with SIGSTOP. JSON lines both ways:
//   out {"event":"offer","sdp":...}      once its gathering is complete (it is the offerer: controlling)
//   in  {"answer":sdp}                   the test's answer (ice-tcp's candidates, a fake DTLS fingerprint)
//   out {"event":"state","state":...}    every change of iceConnectionState (polled: its callback is unreliable)
//   in  {"stats":true}                   out {"event":"stats",...} its selected candidate pair's STUN counters
import { createInterface } from 'node:readline';
import wrtc from '@roamhq/wrtc';

const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const pc = new wrtc.RTCPeerConnection({});
pc.createDataChannel('consent');
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== 'complete') await new Promise((resolve) => setTimeout(resolve, 20));
emit({ event: 'offer', sdp: pc.localDescription.sdp });

let state = '';
const poll = setInterval(() => {
  if (pc.iceConnectionState === state) return;
  state = pc.iceConnectionState;
  emit({ event: 'state', state });
}, 50);

async function selectedPairStats() {
  const report = await pc.getStats();
  let transport;
  const pairs = new Map();
  for (const s of report.values()) {
    if (s.type === 'transport') transport = s;
    if (s.type === 'candidate-pair') pairs.set(s.id, s);
  }
  const pair = pairs.get(transport?.selectedCandidatePairId) ?? [...pairs.values()].find((p) => p.nominated);
  const pick = (k) => pair?.[k] ?? 0;
  return {
    event: 'stats',
    requestsSent: pick('requestsSent'),
    responsesReceived: pick('responsesReceived'),
    requestsReceived: pick('requestsReceived'),
    responsesSent: pick('responsesSent'),
    consentRequestsSent: pick('consentRequestsSent'),
  };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line);
  if (message.answer) {
    pc.setRemoteDescription({ type: 'answer', sdp: message.answer }).catch((error) =>
      emit({ event: 'error', message: String(error) }),
    );
  } else if (message.stats) {
    selectedPairStats().then(emit, (error) => emit({ event: 'error', message: String(error) }));
  }
});
process.stdin.on('end', () => {
  clearInterval(poll);
  pc.close();
  process.exit(0);
});
