#!/usr/bin/env node
// `npm test`: make the system tools present where we can (Debian + root), say loudly which suites cannot
// run here and how to enable them, then run every vitest project (unit, loopback, lab; vitest.config.ts).
// Extra arguments go to vitest; with `--project` naming only unit/loopback the system tools are not needed.
import { spawnSync } from 'node:child_process';
import { canInstall, ensureSystemDeps } from './system-deps.mjs';

const requireAll = process.env.ICE_TCP_REQUIRE_ALL === '1';
const projects = process.argv.slice(2).flatMap((arg, i, all) => {
  if (arg.startsWith('--project=')) return [arg.slice('--project='.length)];
  return arg === '--project' && all[i + 1] !== undefined ? [all[i + 1]] : [];
});
const needsLab = projects.length === 0 || projects.includes('lab');
const missing = needsLab ? ensureSystemDeps() : [];
const notRoot = needsLab && process.getuid?.() !== 0;

const warnings = [];
if (notRoot) warnings.push('network-namespace suites (S-O over veth, NAT lab, NAT matrix) need root');
for (const dep of missing) warnings.push(`${dep.suites} need Debian package(s): ${dep.pkg}`);
if (warnings.length > 0) {
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n SUITES THAT WILL BE SKIPPED ON THIS MACHINE:`);
  for (const w of warnings) console.warn(`  - ${w}`);
  console.warn(
    ` Enable them all with one command: sudo npm test   (Debian: installs ${canInstall() ? '' : 'via apt-get '}the tools itself)`,
  );
  console.warn(`${bar}\n`);
  if (requireAll) {
    console.error('ICE_TCP_REQUIRE_ALL=1: refusing to skip suites. Failing.');
    process.exit(1);
  }
}

const args = ['vitest', 'run', ...process.argv.slice(2)];
const result = spawnSync('npx', args, { stdio: 'inherit' });
if (warnings.length > 0) console.warn(`\n*** ${warnings.length} suite group(s) were SKIPPED, see above. ***`);
process.exit(result.status ?? 1);
