import createDebug from 'debug';
import { type NatProfile, natTokens } from '../candidate/nat-profile.js';
import type { PortAllocation } from './nat-behaviour.js';
import { type MappingObservation, queryMapping, type StunServerAddress } from './server-reflexive.js';

const log = createDebug('ice-tcp:gather:nat');

/**
 * Longest wait for the mapping query: it runs while the checks are held (at most PREDICTION_HOLD_LIMIT_MS) and
 * before the prediction probes, so a silent OTHER-ADDRESS must leave them most of that time. Two round trips
 * up to ~250 ms fit.
 */
export const MAPPING_PROBE_TIMEOUT_MS = 500;

/**
 * What gathering learns about the NAT in front of each local address without probes of its own: whether a
 * STUN server saw the host address itself, whether the S-O port kept its number, the mapping behaviour (one
 * extra query, below) and the allocation that sequential prediction measured. {@link profile} is what the
 * agent advertises (`a=x-ice-tcp-nat`).
 */
export class NatEvidenceCollector {
  private readonly byBase = new Map<string, NatProfile>();
  private readonly firstMapping = new Map<string, MappingObservation>();

  /** A srflx query's answer. */
  noteMapping(o: MappingObservation): void {
    const p = this.of(o.baseAddress);
    if (!this.firstMapping.has(o.baseAddress)) this.firstMapping.set(o.baseAddress, o);
    p.behindNat = o.mapped.address !== o.baseAddress || o.mapped.port !== o.basePort;
    if (p.behindNat && o.mapped.port === o.basePort) p.allocation ??= 'preserving';
  }

  /** The allocation sequential prediction measured for the address's NAT. */
  noteAllocation(baseAddress: string, allocation: PortAllocation): void {
    const p = this.of(baseAddress);
    if (allocation.kind === 'sequential')
      Object.assign(p, { allocation: 'sequential', step: allocation.delta });
    else if (allocation.kind === 'random' || allocation.kind === 'preserving' || allocation.kind === 'range')
      p.allocation = allocation.kind;
  }

  /**
   * Mapping behaviour of the NATs that did not keep the S-O port: the same S-O port asks the server's
   * OTHER-ADDRESS (or a second server); another external port means endpoint-dependent mapping. Runs while
   * the agent's checks are held, before the prediction probes, so the one flow it adds lies outside their
   * measurement. Best effort: no OTHER-ADDRESS, or a failure, leaves the mapping unknown.
   */
  async probeMappings(
    baseAddresses: ReadonlySet<string>,
    servers: readonly StunServerAddress[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    await Promise.all(
      [...baseAddresses].map(async (baseAddress) => {
        const first = this.firstMapping.get(baseAddress);
        if (!first) return;
        const second =
          servers.find((s) => s.host !== first.server.host || s.port !== first.server.port) ??
          (first.other ? { host: first.other.address, port: first.other.port } : undefined);
        if (!second) return;
        try {
          const { mapped, connection } = await queryMapping({
            server: second,
            localAddress: baseAddress,
            localPort: first.basePort,
            timeoutMs: Math.min(timeoutMs, MAPPING_PROBE_TIMEOUT_MS),
            signal,
          });
          connection.reset();
          const same = mapped.address === first.mapped.address && mapped.port === first.mapped.port;
          this.of(baseAddress).mapping = same ? 'eim' : 'edm';
        } catch (err) {
          log('mapping behaviour of %s unknown: %s', baseAddress, (err as Error).message);
        }
      }),
    );
  }

  /** The profile to advertise: that of the addresses with evidence when they all agree, else unknown. */
  profile(): NatProfile {
    const profiles = [...this.byBase.values()].filter((p) => p.behindNat !== undefined);
    const first = profiles[0];
    if (!first) return {};
    const same = profiles.every((p) => natTokens(p).join(' ') === natTokens(first).join(' '));
    log('profile %s', same ? natTokens(first).join(' ') || '-' : 'unknown: the addresses disagree');
    return same ? { ...first } : {};
  }

  private of(baseAddress: string): NatProfile {
    let p = this.byBase.get(baseAddress);
    if (!p) {
      p = {};
      this.byBase.set(baseAddress, p);
    }
    return p;
  }
}
