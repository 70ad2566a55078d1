/**
 * The NAT routers of the lab (test/support/lab.ts): their options, resolved behaviour and nftables rulesets.
 * See docs/ARCHITECTURE.md, "The NAT lab".
 */

/**
 * How the NAT picks the external port of a new outbound flow: keep the local port (`preserve`), a random port
 * per flow (`random`), the next port of a sequence (`sequential`), or a random port per flow inside a small
 * range (`range`: `snat to WAN:<rangeBase>-<rangeBase + rangeCount - 1> random`).
 */
export type NatMapping = 'preserve' | 'random' | 'sequential' | 'range';

/**
 * What the NAT does with an unsolicited inbound TCP SYN on its WAN: silently drop it, answer with RST, or
 * (`endpoint-independent`, "full cone") let it in from any source when it is addressed to an external port
 * that has a mapping, to the LAN host and port owning that mapping; a SYN to a port without one is dropped.
 */
export type NatFiltering = 'drop' | 'rst' | 'endpoint-independent';

/** One NAT router's behaviour. */
export interface NatOptions {
  /** Default 'preserve' (`masquerade`: endpoint-independent, keeps the local port when free). */
  mapping?: NatMapping;
  /** Default 'drop'. */
  filtering?: NatFiltering;
  /**
   * Probability (0..1) that an IPv4 packet crossing the WAN wire is lost, drawn per packet and per direction
   * on the WAN device (netdev egress/ingress): outbound after SNAT and conntrack confirmation (so the NAT keeps
   * the mapping and state of a lost SYN), inbound before conntrack and de-NAT. Traffic between the LAN and the
   * router itself is never dropped.
   */
  loss?: number;
  /** First external port of 'sequential' mapping; default 20000. */
  sequentialBase?: number;
  /** Number of ports 'sequential' cycles through; default 200. */
  sequentialCount?: number;
  /** Port step of 'sequential' between consecutive flows (negative: counting down from the base); default 1. */
  sequentialStep?: number;
  /** First external port of 'range' mapping; default 20000. */
  rangeBase?: number;
  /** Number of ports of 'range' mapping; default 10. */
  rangeCount?: number;
  /**
   * Hairpinning: a LAN host's SYN to the NAT's own public address and an external port that has a mapping is
   * sent back to the LAN host owning it, with its source rewritten to the public address (so the two hosts see
   * each other's public mappings, as an outside peer would). Default false: a Linux NAT does not hairpin.
   */
  hairpin?: boolean;
  /**
   * A carrier-grade NAT in front of this one: this NAT's WAN gets 100.64.<n>.2 on a link of its own to the
   * carrier NAT (100.64.<n>.1), whose WAN takes the public address. The carrier NAT's own `cgn` is refused.
   */
  cgn?: NatOptions;
}

/** A NAT router of the lab. */
export interface LabNat {
  /** Its network namespace. */
  readonly namespace: string;
  /** Its WAN address: public, or in 100.64.0.0/10 behind a carrier NAT. */
  readonly wan: string;
  /** The address the public segment sees for flows through it: its own WAN, or its carrier NAT's. */
  readonly publicAddress: string;
  /** Its LAN address (the hosts' default gateway). */
  readonly lan: string;
  /** Its LAN network, `a.b.c.0/24`. */
  readonly lanNet: string;
  /** Its resolved behaviour. */
  readonly mapping: NatMapping;
  readonly filtering: NatFiltering;
  readonly loss: number;
  /** First port and count of 'sequential' mapping. */
  readonly sequentialBase: number;
  readonly sequentialCount: number;
  readonly sequentialStep: number;
  /** First port and count of 'range' mapping. */
  readonly rangeBase: number;
  readonly rangeCount: number;
  readonly hairpin: boolean;
  /** The carrier NAT in front of it, if any (its namespace is the lab's `cgnA`/`cgnB`). */
  readonly cgn: LabNat | undefined;
}

/** Public (WAN) address of each side's outermost NAT. */
const NAT_WAN = { natA: '203.0.113.1', natB: '203.0.113.2' } as const;
/** The /24 of each side's LAN, and of the link between a home NAT and its carrier NAT. */
const NAT_LAN_NET = { natA: '10.0.1', natB: '10.0.2' } as const;
const CGN_NET = { natA: '100.64.1', natB: '100.64.2' } as const;

function checkRange(base: number, count: number, step: number, what: string): void {
  const last = base + (count - 1) * step;
  if (!Number.isInteger(count) || count < 1 || step === 0 || base < 1 || last < 1 || last > 65535)
    throw new Error(`lab: bad ${what} range`);
}

/** Resolves one side's NAT (and its carrier NAT), checking the options before anything is built. */
export function resolveNat(side: NatOptions, name: 'natA' | 'natB', prefix: string, carrier = false): LabNat {
  const loss = side.loss ?? 0;
  if (!(loss >= 0 && loss <= 1)) throw new Error(`lab: loss must be within 0..1, got ${loss}`);
  const sequentialBase = side.sequentialBase ?? 20000;
  const sequentialCount = side.sequentialCount ?? 200;
  const sequentialStep = side.sequentialStep ?? 1;
  checkRange(sequentialBase, sequentialCount, sequentialStep, 'sequential');
  const rangeBase = side.rangeBase ?? 20000;
  const rangeCount = side.rangeCount ?? 10;
  checkRange(rangeBase, rangeCount, 1, 'port');
  if (carrier && side.cgn) throw new Error('lab: a carrier NAT cannot sit behind another');
  const cgn = side.cgn ? resolveNat(side.cgn, name, prefix, true) : undefined;
  const suffix = name.slice(-1);
  const wan = carrier || !cgn ? NAT_WAN[name] : `${CGN_NET[name]}.2`;
  const lanPrefix = carrier ? CGN_NET[name] : NAT_LAN_NET[name];
  return {
    namespace: `${prefix}${carrier ? `cgn${suffix}` : name}`,
    wan,
    publicAddress: cgn ? cgn.wan : wan,
    lan: `${lanPrefix}.1`,
    lanNet: `${lanPrefix}.0/24`,
    mapping: side.mapping ?? 'preserve',
    filtering: side.filtering ?? 'drop',
    loss,
    sequentialBase,
    sequentialCount,
    sequentialStep,
    rangeBase,
    rangeCount,
    hairpin: side.hairpin ?? false,
    cgn,
  };
}

function mappingRules(nat: LabNat): string[] {
  const tcpUdp = 'oifname "wan" meta l4proto { tcp, udp }';
  switch (nat.mapping) {
    case 'sequential': {
      const entries = Array.from(
        { length: nat.sequentialCount },
        (_, i) => `${i} : ${nat.sequentialBase + i * nat.sequentialStep}`,
      );
      // `ct direction original`: only flows that leave through us take a port. Without it the RST of `reject`
      // (filtering 'rst') to a refused inbound SYN went through this rule too, and every SYN a peer sent to a
      // port without a mapping moved the counter on: a peer's RST ping-pong towards the predicted ports walked
      // them away faster than our own flows (seen in the matrix cell sequential+rst <-> preserve+rst). A NAT
      // allocates ports to outbound mappings, not to the SYNs it refuses.
      return [
        `    oifname "wan" ct direction original meta l4proto { tcp, udp } snat to ${nat.wan} : numgen inc mod ${nat.sequentialCount} map { ${entries.join(', ')} }`,
        '    oifname "wan" ct direction original masquerade',
      ];
    }
    case 'range':
      // `random`: without it Linux reuses the mapping of a live flow from the same source (endpoint-independent
      // mapping, only the first port random), which behaves like a non-preserving 'preserve' to ICE
      return [
        `    ${tcpUdp} snat to ${nat.wan} : ${nat.rangeBase}-${nat.rangeBase + nat.rangeCount - 1} random`,
        '    oifname "wan" masquerade',
      ];
    case 'random':
      return ['    oifname "wan" masquerade fully-random'];
    default:
      return ['    oifname "wan" masquerade'];
  }
}

/**
 * The mapping table of full cone and hairpinning: external TCP port -> LAN address . port, learned from every
 * outbound packet of an outbound flow after its SNAT (`ct reply proto-dst` is then the external port), kept
 * for as long as a conntrack entry would keep an idle established flow's mapping in a home router (5 min).
 */
function mappingTable(nat: LabNat): { map: string[]; prerouting: string[]; learn: string[] } {
  const eif = nat.filtering === 'endpoint-independent';
  if (!eif && !nat.hairpin) return { map: [], prerouting: [], learn: [] };
  const toOwner = 'meta l4proto tcp dnat ip to tcp dport map @mappings';
  return {
    map: [
      '  map mappings {',
      '    type inet_service : ipv4_addr . inet_service',
      '    flags dynamic,timeout',
      '    timeout 300s',
      '  }',
    ],
    prerouting: [
      '  chain prerouting {',
      '    type nat hook prerouting priority dstnat; policy accept;',
      ...(eif ? [`    iifname "wan" ${toOwner}`] : []),
      ...(nat.hairpin ? [`    iifname "lan" ip daddr ${nat.wan} ${toOwner}`] : []),
      '  }',
    ],
    learn: [
      '  chain learn {',
      '    type filter hook postrouting priority srcnat + 10; policy accept;',
      // only flows that left through us (original direction, source NATed): an inbound full-cone flow's
      // replies also leave through "wan", and would map the remote's port to the remote's address
      '    oifname "wan" meta l4proto tcp ct direction original ct status snat update @mappings { ct reply proto-dst : ct original ip saddr . ct original proto-src }',
      '  }',
    ],
  };
}

/**
 * The nftables ruleset of one NAT router. Filtering sits in both `input` (an unsolicited SYN to the WAN
 * address itself, i.e. to a mapping that does not exist for that peer) and `forward`; replies of outbound
 * flows are `established`, and a full cone's inbound flows were DNATed to their owner in `prerouting`. Loss
 * sits on the WAN device itself (netdev ingress/egress), outside conntrack's view as on a lossy wire: an
 * outbound SYN dropped in `postrouting` instead would never confirm its conntrack entry, so the NAT would
 * forget the mapping and refuse the peer's SYN, which no real NAT does.
 */
export function natRuleset(nat: LabNat): string {
  const refuse = nat.filtering === 'rst' ? 'meta l4proto tcp reject with tcp reset' : 'meta l4proto tcp drop';
  const table = mappingTable(nat);
  const filter = (hook: string): string[] => [
    `  chain ${hook} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    '    iifname "wan" ct state established,related accept',
    ...(hook === 'forward' && nat.filtering === 'endpoint-independent'
      ? ['    iifname "wan" ct status dnat accept']
      : []),
    `    iifname "wan" ${refuse}`,
    '    iifname "wan" drop',
    '  }',
  ];
  const lines = [
    'table ip lab {',
    ...table.map,
    ...filter('input'),
    ...filter('forward'),
    ...table.prerouting,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...mappingRules(nat),
    // the hairpinned flow goes back out "lan": from the public address, so the owner answers through us
    ...(nat.hairpin ? [`    oifname "lan" ct status dnat ip saddr ${nat.lanNet} snat to ${nat.wan}`] : []),
    '  }',
    ...table.learn,
    '}',
  ];
  if (nat.loss > 0) {
    // numgen random is uniform over 0..2^32-1 reduced mod 1e6: loss is exact to one part in a million. IPv4
    // only: the loss stands for lost IP packets, and a lost ARP would add the neighbour table's 1 s retry.
    const threshold = Math.round(nat.loss * 1_000_000);
    lines.push(
      'table netdev lab_wire {',
      '  chain wire_in {',
      '    type filter hook ingress device "wan" priority filter; policy accept;',
      `    meta protocol ip numgen random mod 1000000 < ${threshold} drop`,
      '  }',
      '  chain wire_out {',
      '    type filter hook egress device "wan" priority filter; policy accept;',
      `    meta protocol ip numgen random mod 1000000 < ${threshold} drop`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
