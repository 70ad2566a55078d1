import { isPrivateAddress, type NatProfile } from '../candidate/nat-profile.js';
import { isPredictedFlowPort } from '../candidate/predicted.js';
import type { Candidate } from '../candidate/types.js';
import type { CandidatePair } from './pair.js';
import { isSequentialPredicted } from './sequential.js';

/** Both sides' measured NAT behaviour (`a=x-ice-tcp-nat`); either may be unknown. */
export interface NatProfiles {
  local?: NatProfile;
  remote?: NatProfile;
}

/** What the rules read besides the pair: the profiles and the public addresses each side's candidates show. */
export interface NatEvidence extends NatProfiles {
  /** Our public addresses: our srflx candidates', and our host addresses when we are not behind a NAT. */
  localPublic: ReadonlySet<string>;
  /** The peer's, from its signalled srflx candidates (and host ones when it is not behind a NAT). */
  remotePublic: ReadonlySet<string>;
  /** We advertised predicted ports (sequential or range): our next flows take them, and a peer may dial them. */
  localPredicts: boolean;
}

/** The public addresses a side's candidates show, given its profile. */
export function publicAddresses(
  candidates: Iterable<Candidate>,
  profile: NatProfile | undefined,
): Set<string> {
  const found = new Set<string>();
  for (const c of candidates) {
    if (c.type === 'srflx' || (c.type === 'host' && profile?.behindNat === false)) found.add(c.address);
  }
  return found;
}

const disjoint = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size > 0 && b.size > 0 && ![...a].some((x) => b.has(x));

/**
 * Why a pair cannot succeed given both sides' NAT behaviour, or undefined when it may. Such a pair is still
 * checked; it only stops holding the nomination of a pair below it that succeeded (checklist/nomination.ts),
 * so a wrong verdict costs a lower pair (a relay instead of a direct one), never the connection. Conservative:
 * nothing is concluded from an unknown, and a pair the peer has reached is never hopeless.
 *
 * | rule | pair (our check)                                 | evidence                                    | why                                                                               |
 * |------|--------------------------------------------------|---------------------------------------------|-----------------------------------------------------------------------------------|
 * | 1    | to the peer's host passive/S-O candidate         | its address is private, peer says `nat`, both public addresses known and different | a private address of another network: nothing routes there                        |
 * | 2    | active to the peer's srflx passive               | peer says `nat`                             | a NAT lets in only what matches a flow its host opened, and a listener opens none (a port forward or DMZ aside) |
 * | 3    | S-O to the peer's measured (not predicted) srflx S-O | peer says `edm`                             | its flow towards us leaves from another port than the one the STUN server saw: our SYN matches nothing |
 * | 4    | from our non-predicted S-O to the peer's srflx S-O | we say `edm`, peer says `nat`, and we predict no ports or the peer's is a predicted one | our flow leaves from a port the peer never learned (or, when we predict, one only our partner flow's peer dials); its NAT lets in only the endpoint it sent to (port-dependent filtering, Linux conntrack and most NATs) |
 */
export function hopelessReason(pair: CandidatePair, e: NatEvidence): string | undefined {
  if (pair.checksReceived > 0 || pair.local.tcpType === 'passive') return undefined;
  const { local, remote } = pair;
  const peerNat = e.remote?.behindNat === true;
  if (
    remote.type === 'host' &&
    peerNat &&
    isPrivateAddress(remote.address) &&
    disjoint(e.localPublic, e.remotePublic)
  )
    return "the peer's private address, behind another NAT";
  if (local.tcpType === 'active' && remote.type === 'srflx' && peerNat)
    return "the peer's passive port behind its NAT: no flow opened it";
  if (local.tcpType !== 'so' || remote.type !== 'srflx') return undefined;
  if (e.remote?.mapping === 'edm' && !isPredictedFlowPort(remote))
    return "the peer's NAT maps its flow towards us to another port (edm)";
  const peerCannotKnowPort = !e.localPredicts || isSequentialPredicted(remote);
  if (e.local?.mapping === 'edm' && peerNat && !isSequentialPredicted(local) && peerCannotKnowPort)
    return 'our NAT maps this flow to a port the peer never learned (edm)';
  return undefined;
}
