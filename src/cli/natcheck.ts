import type { PortAllocation } from '../gather/nat-behaviour.js';
import { probeNat } from '../gather/nat-probe.js';
import { type CliIo, writeLine } from './io.js';

/** Options of `ice-tcp natcheck`. */
export interface NatcheckOptions {
  io: CliIo;
  servers: { host: string; port: number }[];
  bind?: string;
  json: boolean;
}

const MEANING = {
  'direct-likely': 'direct connections are likely (simultaneous open to the server-reflexive candidate)',
  'needs-prediction': 'direct connections need port prediction (predicted candidates)',
  'needs-relay': 'direct connections are unlikely: use a TURN relay',
} as const;

/** Probes the NAT over TCP and prints what it found. */
export async function runNatcheck(options: NatcheckOptions): Promise<number> {
  const report = await probeNat({ servers: options.servers, localAddress: options.bind });
  const print = (line: string) => writeLine(options.io.stdout, line);
  if (options.json) {
    print(JSON.stringify(report));
    return 0;
  }
  print(`behind NAT:        ${report.behindNat ? `yes, public address ${report.publicAddress}` : 'no'}`);
  print(`mapping:           ${report.mapping}`);
  print(`port preservation: ${report.portPreservation ? 'yes' : 'no'}`);
  print(`port allocation:   ${describeAllocation(report.allocation)}`);
  print(`traversal:         ${MEANING[report.traversal]}`);
  print('observations (local port -> server: mapped):');
  for (const o of [...report.observations.fixedPort, ...report.observations.freshPorts]) {
    print(`  ${o.localPort} -> ${o.server.host}:${o.server.port}: ${o.mapped.address}:${o.mapped.port}`);
  }
  return 0;
}

/** The `port allocation:` line's value, e.g. `sequential, delta +1` or `range, ports 20001-20009 seen`. */
export function describeAllocation(a: PortAllocation): string {
  if (a.kind === 'sequential') return `sequential, delta ${a.delta > 0 ? '+' : ''}${a.delta}`;
  if (a.kind === 'range') return `range (a random port per connection), ports ${a.low}-${a.high} seen`;
  return a.kind;
}
