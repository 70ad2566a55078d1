import { defineConfig } from 'vitest/config';

// Three projects, so that a unit run needs neither root nor sockets and a lab run does not fight the rest for
// ports and cores (docs/ARCHITECTURE.md, "Tests"). A new test file is `loopback` unless it sits in a unit folder
// (or is named `*.unit.test.ts`), or is listed as `lab` below.

/** Pure code: no sockets, no child processes, no root (enforced by test/support/unit-guard.ts). */
const UNIT = [
  'test/stun/**/*.test.ts',
  'test/framing/**/*.test.ts',
  'test/candidate/**/*.test.ts',
  'test/checklist/**/*.test.ts',
  'test/**/*.unit.test.ts',
  'src/**/*.unit.test.ts',
  'test/agent/options.test.ts',
  'test/gather/nat-behaviour.test.ts',
  'test/server/binding.test.ts',
  'test/signalling/signalling.test.ts',
  'test/signalling/line-limit.test.ts',
];

/** Root, network namespaces, nftables, coturn or libnice. */
const LAB = [
  'test/nat/**/*.test.ts',
  'test/interop/**/*.test.ts',
  'test/hostile/live-fuzz.test.ts',
  'test/turn/coturn.test.ts',
  'test/turn/relay-agent.test.ts',
  'test/agent/consent-relay.test.ts',
  'test/agent/restart-relay.test.ts',
  'test/agent/restart-stream-relay.test.ts',
  'test/turn/consent*.test.ts',
  'test/turn/relay-cli.test.ts',
  'test/turn/relay-half-close.test.ts',
  'test/turn/tls.test.ts',
  'test/tunnel/lab.test.ts',
  'test/rendezvous/redis*.test.ts',
];

const ALL = ['test/**/*.test.ts', 'src/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // `npm run coverage`: lines of src/ run by the whole suite. Child processes are not measured, which is why
    // the CLI's tests also run it in process (test/cli/in-process*.test.ts).
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'text', 'html'],
      // a failing test still fails the run; the figure is printed all the same
      reportOnFailure: true,
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          setupFiles: ['test/support/unit-guard.ts'],
          // pure modules keep no state between files: one worker process for many files saves a third of the CPU
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'loopback', include: ALL, exclude: [...UNIT, ...LAB] },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: LAB,
          exclude: UNIT,
          // After the other projects, and two files at a time: namespaces, coturn and the NAT matrix each load
          // both cores, and SYN timings in the lab go wrong under CPU starvation.
          sequence: { groupOrder: 1 },
          maxWorkers: 2,
        },
      },
    ],
  },
});
