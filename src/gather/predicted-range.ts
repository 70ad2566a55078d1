import { makeLocalCandidate } from '../candidate/factory.js';
import type { SimultaneousOpenPort } from '../transport/index.js';
import type { LocalEndpoint } from './endpoint.js';

/** What range prediction offers, and where. */
export interface RangePrediction {
  /** The NAT's public address. */
  address: string;
  /** The window's ports (nat-behaviour.ts rangeWindow), measured srflx ports already left out. */
  ports: readonly number[];
  /** The ports the probes spanned (the window is this, widened): the likeliest, so ranked first. */
  span: { low: number; high: number };
  /** The address's one S-O host port: every later flow of it gets one of the range's ports. */
  base: SimultaneousOpenPort;
  baseAddress: string;
  otherPreference: number;
  /** Part of each foundation. */
  serverHost: string;
  nextId: () => string;
}

/**
 * Predicted candidates for a port-range NAT (a random port per flow inside a small range): one `srflx so`
 * candidate marked `x-ice-tcp-predicted range` per port of the window, all on the S-O host port. Our own
 * checks from that port are the flows: the first towards the peer's candidate takes one of the range's ports,
 * and the peer, dialling every port of the window from its S-O port, meets it there (its SYN to the other
 * ports is dropped or refused by our NAT). Our pairs on these candidates are redundant with the host S-O one
 * (same base), so they send no check of their own; they are only for the peer to dial. Outside the sequential
 * partner ranking and its check hold: which port a flow gets is chance, not order.
 */
export function emitRangePredicted(p: RangePrediction, onEndpoint: (endpoint: LocalEndpoint) => void): void {
  for (const external of p.ports) {
    // The peer checks these one per Ta (5 ms) in priority order, and which one our flow draws is chance: the
    // spanned ports first, then the widening by distance from the span, so the likely ports are not checked
    // after the unlikely ones (ascending, the low widening came first: ~20 ms of 75 in the lab's range cell).
    const outside = Math.max(0, p.span.low - external, external - p.span.high);
    const candidate = makeLocalCandidate({
      id: p.nextId(),
      type: 'srflx',
      tcpType: 'so',
      address: p.address,
      port: external,
      baseAddress: p.baseAddress,
      basePort: p.base.port,
      otherPreference: Math.max(0, p.otherPreference - outside),
      // one foundation per port: a shared one would leave all but one of the peer's pairs frozen, and the
      // peer must dial every port at once (RFC 8445 §6.1.2.6)
      serverAddress: `${p.serverHost}#range${external}`,
      related: { address: p.baseAddress, port: p.base.port },
      predicted: 'range',
    });
    onEndpoint({ kind: 'so', candidate, port: p.base });
  }
}
