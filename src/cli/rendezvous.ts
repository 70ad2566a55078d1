import { type CliCommand, type FlagValues, intFlag, stringFlag, usageError } from './args.js';
import { type CliIo, writeLine } from './io.js';

const NAME = 'rendezvous';

/** `ice-tcp rendezvous`; the server is imported when the command runs, so the other commands never load `ws`. */
export const rendezvousCommand: CliCommand = {
  spec: {
    name: NAME,
    summary:
      'WebSocket signalling server until SIGINT/SIGTERM: peers that open ws://HOST:PORT/ROOM meet in ROOM,\nand what one sends reaches the others (connect and tunnel take --rendezvous ws://HOST:PORT/ROOM).',
    flags: {
      host: { type: 'string', value: 'IP', description: 'address to listen on (default 127.0.0.1)' },
      port: {
        type: 'string',
        value: 'PORT',
        description: 'port to listen on (default 8443; 0 = any free port)',
      },
      token: {
        type: 'string',
        value: 'SECRET',
        description: 'shared secret clients must present (default: ICE_TCP_RENDEZVOUS_TOKEN, else none)',
      },
      redis: {
        type: 'string',
        value: 'URL',
        description: 'redis://HOST:PORT: share rooms with every rendezvous using this Redis',
      },
      'max-peers-per-room': { type: 'string', value: 'N', description: 'peers in one room (default 2)' },
      'max-rooms': { type: 'string', value: 'N', description: 'rooms with a member here (default 1000)' },
      'max-message-bytes': {
        type: 'string',
        value: 'N',
        description: 'largest message; a bigger one closes its connection (default 16384)',
      },
      'messages-per-second': {
        type: 'string',
        value: 'N',
        description: 'sustained messages per connection (default 20)',
      },
      'message-burst': {
        type: 'string',
        value: 'N',
        description: 'messages at once before the rate applies (default 100)',
      },
      'idle-room-ms': {
        type: 'string',
        value: 'MS',
        description: 'close a room with no join or message for this long (default 600000)',
      },
    },
    notes:
      'Clients send the token as "Authorization: Bearer SECRET" (WebSocketSignaller; the CLI reads\nICE_TCP_RENDEZVOUS_TOKEN) or as ?token=SECRET in the URL.',
  },
  run: (values, _positionals, io) => run(values, io),
};

async function run(values: FlagValues, io: CliIo): Promise<number> {
  const optional = (flag: string, min: number, max: number) =>
    values[flag] === undefined ? undefined : intFlag(NAME, values, flag, 0, min, max);
  const rate = values['messages-per-second'];
  const messagesPerSecond = rate === undefined ? undefined : Number(rate);
  if (messagesPerSecond !== undefined && !(messagesPerSecond > 0 && Number.isFinite(messagesPerSecond))) {
    usageError(NAME, `--messages-per-second needs a positive number, got ${String(rate)}`);
  }
  const redisUrl = stringFlag(values, 'redis');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    usageError(NAME, `--redis needs redis://HOST:PORT, got ${redisUrl}`);
  }
  const { runRendezvous } = await import('../rendezvous/run.js');
  await runRendezvous(
    {
      host: stringFlag(values, 'host') ?? '127.0.0.1',
      port: intFlag(NAME, values, 'port', 8443, 0, 65535),
      token: stringFlag(values, 'token'),
      redisUrl,
      maxPeersPerRoom: optional('max-peers-per-room', 2, 1000),
      maxRooms: optional('max-rooms', 1, 1_000_000),
      maxMessageBytes: optional('max-message-bytes', 256, 16 * 1024 * 1024),
      messagesPerSecond,
      messageBurst: optional('message-burst', 1, 1_000_000),
      idleRoomMs: optional('idle-room-ms', 1, 2 ** 31 - 1),
      json: values.json === true,
    },
    { print: (line) => writeLine(io.stdout, line), stopped: io.stopped() },
  );
  return 0;
}
