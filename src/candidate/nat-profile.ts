import ipaddr from 'ipaddr.js';

/**
 * What an agent measured about the NAT in front of it while gathering, advertised to the peer as
 * `a=x-ice-tcp-nat:<tokens>` (JSON: `nat` of the parameters message) so that the controlling agent need not
 * wait for pairs that cannot succeed (README, "Nomination by evidence"). Every field is optional: absent is
 * unknown, and unknown changes nothing.
 */
export interface NatProfile {
  /** true: a NAT translates our address (token `nat`); false: a STUN server saw our host address (`no-nat`). */
  behindNat?: boolean;
  /**
   * `eim`: one local port keeps its external port towards every endpoint; `edm`: towards another endpoint it
   * gets another external port (measured from the S-O port against the STUN server's OTHER-ADDRESS).
   */
  mapping?: 'eim' | 'edm';
  /**
   * How new flows from fresh local ports get their external port (`preserving`, `seq+1`/`seq-2`, `range`: a random
   * port inside a small range, `random`).
   */
  allocation?: 'preserving' | 'sequential' | 'range' | 'random';
  /** The step of a sequential allocation. */
  step?: number;
}

/** The SDP attribute name of the profile line. */
export const NAT_ATTRIBUTE = 'x-ice-tcp-nat';

/** More tokens than we define; the rest of a longer line is ignored. */
const MAX_NAT_TOKENS = 16;
const TOKEN = /^[a-z0-9+-]{1,16}$/;

/** The tokens of a profile, e.g. `['nat', 'edm', 'seq+1']`; empty when nothing is known. */
export function natTokens(profile: NatProfile): string[] {
  const tokens: string[] = [];
  if (profile.behindNat !== undefined) tokens.push(profile.behindNat ? 'nat' : 'no-nat');
  if (profile.mapping) tokens.push(profile.mapping);
  if (profile.allocation === 'sequential' && profile.step !== undefined)
    tokens.push(`seq${profile.step > 0 ? '+' : ''}${profile.step}`);
  else if (profile.allocation && profile.allocation !== 'sequential') tokens.push(profile.allocation);
  return tokens;
}

/** Reads tokens of a peer (untrusted): unknown or malformed ones are ignored, the first of a kind wins. */
export function parseNatTokens(tokens: readonly string[]): NatProfile {
  const p: NatProfile = {};
  for (const t of tokens.slice(0, MAX_NAT_TOKENS)) {
    if (!TOKEN.test(t)) continue;
    if ((t === 'nat' || t === 'no-nat') && p.behindNat === undefined) p.behindNat = t === 'nat';
    else if ((t === 'eim' || t === 'edm') && !p.mapping) p.mapping = t;
    else if ((t === 'preserving' || t === 'random' || t === 'range') && !p.allocation) p.allocation = t;
    else if (/^seq[+-]\d{1,2}$/.test(t) && !p.allocation) {
      p.allocation = 'sequential';
      p.step = Number(t.slice(3));
    }
  }
  return p;
}

/** The valid tokens of a peer's list (for the JSON message), at most 16. */
export function natTokenList(tokens: readonly unknown[]): string[] {
  return tokens.slice(0, MAX_NAT_TOKENS).filter((t): t is string => typeof t === 'string' && TOKEN.test(t));
}

/** The `a=x-ice-tcp-nat:` line of a profile, or undefined when nothing is known. */
export function formatNatLine(tokens: readonly string[]): string | undefined {
  return tokens.length > 0 ? `a=${NAT_ATTRIBUTE}:${tokens.join(' ')}` : undefined;
}

/** The tokens of an `x-ice-tcp-nat` attribute value. */
export function parseNatLineValue(value: string): string[] {
  return natTokenList(value.trim().split(/[ \t]+/));
}

/**
 * An address no host outside its own network can route to: RFC 1918, carrier-grade NAT (RFC 6598), IPv6
 * unique-local and link-local addresses.
 */
export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const range = ipaddr.process(address).range();
  return (
    range === 'private' || range === 'carrierGradeNat' || range === 'uniqueLocal' || range === 'linkLocal'
  );
}
