import { InvalidArgumentError } from '../errors.js';
import { reserveLocalPort } from '../transport/reserve-port.js';
import { classifyNat, type NatObservation, type NatReport } from './nat-behaviour.js';
import { queryMapping, type StunServerAddress } from './server-reflexive.js';

/** How to probe. */
export interface NatProbeOptions {
  /** One or two STUN servers; with one, its RFC 5780 OTHER-ADDRESS (if any) is the second endpoint. */
  servers: readonly StunServerAddress[];
  localAddress?: string;
  /** Connections from fresh ports used to classify allocation (>= 3; default 5: a range needs 4, and with 4 a 10-port range looked sequential 13 % of the time in simulation, with 5 1.3 %). */
  freshProbes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Probes the NAT in front of this host over TCP (RFC 5780 ideas applied to TCP, RFC 5382 terms):
 * one local port towards two server endpoints (mapping behaviour, port preservation), then consecutive
 * connections from fresh ports (allocation: preserving, sequential with its delta, a small range, or random).
 */
export async function probeNat(options: NatProbeOptions): Promise<NatReport> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const freshCount = Math.max(3, options.freshProbes ?? 5);
  const primary = options.servers[0];
  if (!primary) throw new InvalidArgumentError('servers: probeNat needs at least one STUN server');
  const localAddress = options.localAddress ?? (primary.host.includes(':') ? '::' : '0.0.0.0');
  const query = (server: StunServerAddress, localPort?: number) =>
    queryMapping({
      server,
      localAddress: options.localAddress ?? '',
      localPort,
      timeoutMs,
      signal: options.signal,
    });

  const fixedPort: NatObservation[] = [];
  const localPort = await reserveLocalPort(
    localAddress === '0.0.0.0' || localAddress === '::' ? undefined : localAddress,
  );
  const first = await query(primary, localPort);
  // read before the reset: a reset socket no longer knows its address, and "behind NAT" compares against it
  const boundAddress = first.connection.local.address;
  first.connection.reset();
  fixedPort.push({ localPort, server: primary, mapped: first.mapped });
  const other = first.message.otherAddress();
  const second = options.servers[1] ?? (other ? { host: other.address, port: other.port } : undefined);
  if (second) {
    const again = await query(second, localPort);
    again.connection.reset();
    fixedPort.push({ localPort, server: second, mapped: again.mapped });
  }

  const freshPorts: NatObservation[] = [];
  for (let i = 0; i < freshCount; i++) {
    const r = await query(primary);
    freshPorts.push({ localPort: r.connection.local.port, server: primary, mapped: r.mapped });
    r.connection.reset();
  }
  const local = options.localAddress ?? boundAddress;
  return classifyNat(local, fixedPort, freshPorts);
}
