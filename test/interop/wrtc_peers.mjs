// Many libwebrtc peer connections (Chrome's ICE, through @roamhq/wrtc) in one process, for the ICE-layer interop
// tests (wrtc-ice.test.ts, wrtc-lite-server.test.ts). JSON lines; every message names its connection by `id`:
//   in  {"id":n,"offer":true}            out {"id":n,"event":"offer","sdp":...}   once its gathering is complete
//   in  {"id":n,"answerSdp":sdp}         applies the test's answer to that offer
//   in  {"id":n,"offerSdp":sdp}          out {"id":n,"event":"answer","sdp":...}  libwebrtc answers the test's offer
//   out {"id":n,"event":"state","state":...}   each change of iceConnectionState (polled: the callback is unreliable)
//   in  {"id":n,"stats":true}            out {"id":n,"event":"stats",...}   the selected pair: protocol, STUN counters
//   out {"event":"error","id":n,"message":...}
// stdin's end closes every connection and exits.
import { createInterface } from 'node:readline';
import wrtc from '@roamhq/wrtc';

const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const pcs = new Map();
const states = new Map();

async function gathered(pc) {
  while (pc.iceGatheringState !== 'complete') await new Promise((resolve) => setTimeout(resolve, 20));
  return pc.localDescription.sdp;
}

function create(id) {
  const pc = new wrtc.RTCPeerConnection({});
  pcs.set(id, pc);
  return pc;
}

async function offer(id) {
  const pc = create(id);
  pc.createDataChannel('ice');
  await pc.setLocalDescription(await pc.createOffer());
  emit({ id, event: 'offer', sdp: await gathered(pc) });
}

async function answer(id, sdp) {
  const pc = create(id);
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  emit({ id, event: 'answer', sdp: await gathered(pc) });
}

async function stats(id) {
  const pc = pcs.get(id);
  const report = await pc.getStats();
  let transport;
  const byId = new Map();
  for (const s of report.values()) {
    byId.set(s.id, s);
    if (s.type === 'transport') transport = s;
  }
  const pairs = [...report.values()].filter((s) => s.type === 'candidate-pair');
  const pair = byId.get(transport?.selectedCandidatePairId) ?? pairs.find((p) => p.nominated);
  const pick = (k) => pair?.[k] ?? 0;
  return {
    id,
    event: 'stats',
    state: pc.iceConnectionState,
    protocol: byId.get(pair?.localCandidateId)?.protocol,
    remotePort: byId.get(pair?.remoteCandidateId)?.port,
    requestsSent: pick('requestsSent'),
    responsesReceived: pick('responsesReceived'),
    requestsReceived: pick('requestsReceived'),
    responsesSent: pick('responsesSent'),
    consentRequestsSent: pick('consentRequestsSent'),
  };
}

const poll = setInterval(() => {
  for (const [id, pc] of pcs) {
    if (states.get(id) === pc.iceConnectionState) continue;
    states.set(id, pc.iceConnectionState);
    emit({ id, event: 'state', state: pc.iceConnectionState });
  }
}, 50);

const fail = (id) => (error) => emit({ event: 'error', id, message: String(error) });

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.offer) offer(m.id).catch(fail(m.id));
  else if (m.answerSdp)
    pcs.get(m.id)?.setRemoteDescription({ type: 'answer', sdp: m.answerSdp }).catch(fail(m.id));
  else if (m.offerSdp) answer(m.id, m.offerSdp).catch(fail(m.id));
  else if (m.stats) stats(m.id).then(emit, fail(m.id));
});
process.stdin.on('end', () => {
  clearInterval(poll);
  for (const pc of pcs.values()) pc.close();
  process.exit(0);
});
