import { cliCommand, LinePeer } from '../support/line-peer.js';

/** Runs `ice-tcp <args>` from source inside network namespace `namespace`, speaking the copy-paste protocol. */
export function cliInNamespace(namespace: string, args: string[]): LinePeer {
  const [node, argv] = cliCommand(args);
  // `ip netns exec` execs in place: the LinePeer's child pid is node's own, so kill() reaches it.
  return new LinePeer('ip', ['netns', 'exec', namespace, node, ...argv]);
}

/** An endpoint as the CLI's `connected` event reports it. */
export interface ReportedEndpoint {
  type: string;
  tcptype: string;
  address: string;
  port: number;
}
