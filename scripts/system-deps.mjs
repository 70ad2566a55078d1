// Which system tools the test suites need, and installing them on Debian when we are root.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

/** Debian packages the suites need, with the check that tells whether each is present. */
export const SYSTEM_DEPS = [
  {
    pkg: 'iproute2',
    suites: 'network-namespace suites (S-O over veth, NAT lab, NAT matrix)',
    present: () => has('ip'),
  },
  { pkg: 'nftables', suites: 'NAT lab and NAT matrix', present: () => has('nft') },
  { pkg: 'ethtool', suites: 'NAT lab delay line (the matrix at 20 ms RTT)', present: () => has('ethtool') },
  { pkg: 'coturn', suites: 'TURN client and relay suites, NAT matrix', present: () => has('turnserver') },
  {
    pkg: 'openssl',
    suites: 'TURN over TLS (a self-signed certificate per run)',
    present: () => has('openssl'),
  },
  {
    pkg: 'redis-server',
    suites: 'rendezvous processes sharing rooms over Redis',
    present: () => has('redis-server'),
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
    installWithoutServices(pkgs, env);
  }
  return SYSTEM_DEPS.filter((d) => !d.present());
}

/** Packages that ship a daemon: the tests start their own instance on a free port, never the system's. */
const SERVICES = { coturn: 'coturn', 'redis-server': 'redis-server' };
const POLICY = '/usr/sbin/policy-rc.d';

/**
 * apt-get install with no service started and none enabled at boot. Debian's maintainer scripts start a daemon
 * unless /usr/sbin/policy-rc.d exits 101, so one is written for the install (unless one exists, as in Docker
 * images) and removed after; they enable the boot-time unit regardless, so each unit installed now is disabled.
 * A service the machine already had is left as it was.
 */
function installWithoutServices(pkgs, env) {
  const ours = !existsSync(POLICY);
  if (ours) {
    writeFileSync(
      POLICY,
      '#!/bin/sh\n# ice-tcp scripts/system-deps.mjs: start no service during apt-get install\nexit 101\n',
      {
        mode: 0o755,
      },
    );
  }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit',
      env,
    });
  } finally {
    if (ours) rmSync(POLICY, { force: true });
  }
  for (const pkg of pkgs) {
    const unit = SERVICES[pkg];
    if (!unit) continue;
    if (has('systemctl')) run('systemctl', ['disable', '--quiet', unit]);
    else if (has('update-rc.d')) run('update-rc.d', [unit, 'disable']);
  }
}
