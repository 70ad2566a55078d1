/** A command line `ice-tcp` must refuse with exit 2 and one line matching the pattern. */
export type UsageCase = [what: string, argv: string[], reason: RegExp];

/** Usage errors checked on the binary (test/cli/usage.test.ts) and in process (in-process-usage.test.ts). */
export const USAGE_ERRORS: UsageCase[] = [
  // before: accepted silently, exit 0
  [
    'flags of other commands',
    ['demo', '--stun', '1.2.3.4:3478', '--echo', '--port', '5'],
    /unknown option --stun/,
  ],
  [
    'a stun-server flag on connect',
    ['connect', '--max-connections', '5'],
    /unknown option --max-connections/,
  ],
  // before: "connectTimeoutMs must be ..."
  ['--timeout 0', ['connect', '--timeout', '0'], /--timeout needs/],
  ['a bad --tcp-types', ['connect', '--tcp-types', 'active,udp'], /--tcp-types/],
  ['--force-relay without --turn', ['connect', '--force-relay'], /--force-relay needs/],
  ['a missing value', ['connect', '--send-bytes'], /--send-bytes needs a value/],
  ['a stray argument', ['natcheck', 'extra', '--stun', '127.0.0.1:1'], /unexpected argument extra/],
  ['an unknown command', ['frobnicate'], /unknown command frobnicate/],
  ['tunnel serve without --forward', ['tunnel', 'serve'], /needs --forward/],
  [
    'tunnel connect with a bad --listen',
    ['tunnel', 'connect', '--listen', 'nowhere'],
    /--listen needs HOST:PORT/,
  ],
  ['an unknown tunnel subcommand', ['tunnel', 'expose'], /unknown subcommand expose/],
  // before: exit 1, reported as a failure of the connection
  [
    'connect with a --rendezvous that is no ws:// URL',
    ['connect', '--rendezvous', 'http://127.0.0.1:1/room', '--send-bytes', '1'],
    /connect: --rendezvous needs ws:\/\/HOST:PORT\/ROOM/,
  ],
  [
    'tunnel serve with a --rendezvous without a room',
    ['tunnel', 'serve', '--forward', '127.0.0.1:1', '--rendezvous', 'ws://127.0.0.1:1'],
    /tunnel serve: --rendezvous needs ws:\/\/HOST:PORT\/ROOM/,
  ],
  // before: "--expect-bytes takes no value"
  [
    'a value starting with a dash',
    ['connect', '--expect-bytes', '-1'],
    /--expect-bytes needs a value \(one starting with - is written --expect-bytes=VALUE\)/,
  ],
  // before: --remote was ignored without a word
  [
    '--remote with --rendezvous',
    ['connect', '--remote', 'peer.txt', '--rendezvous', 'ws://127.0.0.1:1/room'],
    /--remote and --rendezvous exclude each other/,
  ],
];

/** More usage errors, checked in process only (each one a branch of src/cli that the list above leaves out). */
export const MORE_USAGE_ERRORS: UsageCase[] = [
  ['an option before the command', ['--bind', 'demo'], /a command comes first, got --bind/],
  ['a value for a boolean flag', ['connect', '--echo=yes'], /--echo takes no value/],
  ['--controlling with --controlled', ['connect', '--controlling', '--controlled'], /exclude each other/],
  ['--echo with --send-bytes', ['connect', '--echo', '--send-bytes', '1'], /--echo and --send-bytes/],
  ['a negative --expect-bytes', ['connect', '--expect-bytes=-1'], /--expect-bytes needs an integer >= 0/],
  ['an empty --tcp-types entry', ['connect', '--tcp-types', 'so,'], /got \(empty\)/],
  ['a bad --stun', ['connect', '--stun', 'stun.example.org'], /--stun needs HOST:PORT/],
  ['a --stun port above 65535', ['connect', '--stun', '127.0.0.1:70000'], /--stun needs HOST:PORT/],
  ['a bad --turn', ['connect', '--turn', '127.0.0.1:3478:user'], /--turn needs HOST:PORT:USER:PASS/],
  ['--bind that is no IP (connect)', ['connect', '--bind', 'nonsense'], /--bind needs a numeric IP/],
  ['--bind that is no IP (demo)', ['demo', '--bind', 'nonsense'], /--bind needs a numeric IP/],
  ['a bad demo --bytes', ['demo', '--bytes', '1.5'], /--bytes needs an integer >= 0, got 1.5/],
  ['natcheck without --stun', ['natcheck'], /natcheck: needs --stun HOST:PORT/],
  ['natcheck with a bad --bind', ['natcheck', '--stun', '127.0.0.1:1', '--bind', 'x'], /--bind needs/],
  ['stun-server --port out of range', ['stun-server', '--port', '65536'], /--port needs an integer from 0/],
  ['stun-server --alt-port that is no number', ['stun-server', '--alt-port', 'x'], /--alt-port needs/],
  ['stun-server --max-connections 0', ['stun-server', '--max-connections', '0'], /a positive integer, got 0/],
  ['stun-server --udp-amplification 0.5', ['stun-server', '--udp-amplification', '0.5'], /a number >= 1/],
  ['tunnel connect without --listen', ['tunnel', 'connect'], /needs --listen HOST:PORT/],
  ['tunnel serve with a bad --forward', ['tunnel', 'serve', '--forward', 'x'], /--forward needs HOST:PORT/],
  ['rendezvous --port out of range', ['rendezvous', '--port', '99999'], /--port needs an integer from 0/],
  ['rendezvous --max-peers-per-room 1', ['rendezvous', '--max-peers-per-room', '1'], /from 2 to 1000/],
  ['rendezvous --messages-per-second 0', ['rendezvous', '--messages-per-second', '0'], /a positive number/],
  ['rendezvous --redis that is no redis URL', ['rendezvous', '--redis', 'http://x'], /--redis needs redis:/],
];
