// Which system tools the test suites need, and installing them on Debian when we are root.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian packages the suites need, with the check that tells whether each is present. */
export const SYSTEM_DEPS = [
  {
    pkg: 'iproute2',
    suites: 'network-namespace suites (S-O over veth, NAT lab, NAT matrix)',
    present: () => has('ip'),
  },
  { pkg: 'nftables', suites: 'NAT lab and NAT matrix', present: () => has('nft') },
  { pkg: 'coturn', suites: 'TURN client and relay suites, NAT matrix', present: () => has('turnserver') },
  {
    pkg: 'openssl',
    suites: 'TURN over TLS (a self-signed certificate per run)',
    present: () => has('openssl'),
  },
  {
    pkg: 'gir1.2-nice-0.1 python3-gi',
    suites: 'libnice interoperability',
    present: () =>
      existsSync('/usr/bin/python3') &&
      run('/usr/bin/python3', [
        '-c',
        "import gi; gi.require_version('Nice', '0.1'); from gi.repository import Nice",
      ]),
  },
];

function has(command) {
  return run('sh', ['-c', `command -v ${command}`]);
}

function run(command, args) {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when this process may install Debian packages itself. */
export function canInstall() {
  return process.getuid?.() === 0 && has('apt-get');
}

/** Installs every missing package (Debian, root). Returns the list still missing afterwards. */
export function ensureSystemDeps({ log = console.log } = {}) {
  const missing = SYSTEM_DEPS.filter((d) => !d.present());
  if (missing.length > 0 && canInstall()) {
    const pkgs = missing.flatMap((d) => d.pkg.split(' '));
    log(`[ice-tcp] installing system packages for the test suites: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit',
      env,
    });
  }
  return SYSTEM_DEPS.filter((d) => !d.present());
}
