import { probeNat } from '../gather/nat-probe.js';

/** Options of `ice-tcp natcheck`. */
export interface NatcheckOptions {
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
  if (options.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  const a = report.allocation;
  console.log(
    `behind NAT:        ${report.behindNat ? `yes, public address ${report.publicAddress}` : 'no'}`,
  );
  console.log(`mapping:           ${report.mapping}`);
  console.log(`port preservation: ${report.portPreservation ? 'yes' : 'no'}`);
  console.log(
    `port allocation:   ${a.kind === 'sequential' ? `sequential, delta ${a.delta > 0 ? '+' : ''}${a.delta}` : a.kind}`,
  );
  console.log(`traversal:         ${MEANING[report.traversal]}`);
  console.log('observations (local port -> server: mapped):');
  for (const o of [...report.observations.fixedPort, ...report.observations.freshPorts]) {
    console.log(
      `  ${o.localPort} -> ${o.server.host}:${o.server.port}: ${o.mapped.address}:${o.mapped.port}`,
    );
  }
  return 0;
}
