import { execFileSync } from 'node:child_process';

/** Two network namespaces joined by one veth pair, no NAT and no firewall in between. */
export interface VethPair {
  /** Namespace names (unique per run, <= 15 characters). */
  readonly namespaces: readonly [string, string];
  /** The address of the veth end inside each namespace. */
  readonly addresses: readonly [string, string];
  /** Deletes both namespaces (and with them the veth pair); safe to call twice. */
  destroy(): void;
}

/** The documentation range the pair lives in (RFC 5737 TEST-NET-2). */
const ADDRESSES = ['198.51.100.1', '198.51.100.2'] as const;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates `<tag>a` and `<tag>b` joined by a veth pair (root and iproute2 needed). */
export function createVethPair(tag = `itso${process.pid}`): VethPair {
  const namespaces = [`${tag}a`, `${tag}b`] as const;
  for (const name of namespaces) if (name.length > 15) throw new Error(`namespace name ${name} is too long`);
  const destroy = () => {
    for (const name of namespaces) {
      try {
        ip('netns', 'del', name);
      } catch {
        // already gone (or never created)
      }
    }
  };
  try {
    for (const name of namespaces) ip('netns', 'add', name);
    const [a, b] = namespaces;
    ip('link', 'add', 'veth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', b);
    namespaces.forEach((name, i) => {
      ip('-n', name, 'addr', 'add', `${ADDRESSES[i]}/24`, 'dev', 'veth0');
      ip('-n', name, 'link', 'set', 'lo', 'up');
      ip('-n', name, 'link', 'set', 'veth0', 'up');
    });
  } catch (error) {
    destroy();
    throw error;
  }
  return { namespaces, addresses: ADDRESSES, destroy };
}
