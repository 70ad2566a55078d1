import net from 'node:net';
import type { Duplex } from 'node:stream';
import { wrapError } from '../errors.js';
import { Mux } from '../tunnel/mux.js';
import type { MuxStream } from '../tunnel/mux-stream.js';
import { AGENT_FLAGS, agentOptions, signallingFlags } from './agent-flags.js';
import { type CliCommand, type FlagValues, hostPortValue, stringFlag, usageError } from './args.js';
import { describePair, endpoint } from './connect.js';
import { type CliIo, writeLine } from './io.js';
import { connectSession, type Session } from './session.js';

const NOTES =
  'Signalling as in connect: each side prints its a= lines and a blank line; paste them into the other\n' +
  'side (or --remote FILE, or --rendezvous URL). Every TCP connection accepted by tunnel connect becomes\n' +
  'its own stream over the one ICE-TCP connection, with its own flow control and half-close. The command\n' +
  'runs until the ICE-TCP connection ends (exit 0) or fails (exit 1). Reports are JSON lines on stdout.';

/** Splices a local TCP socket and a tunnel stream: both directions, half-close kept, a failure resets both. */
function splice(socket: net.Socket, stream: MuxStream): void {
  socket.pipe(stream);
  stream.pipe(socket);
  let failed = false;
  const fail = () => {
    if (failed) return;
    failed = true;
    stream.destroy();
    if (!socket.destroyed) socket.resetAndDestroy();
  };
  socket.on('error', fail);
  stream.on('error', fail);
  // both ends half-closed and flushed: the socket is done
  stream.on('close', () => {
    if (!failed && !socket.destroyed) socket.end();
  });
}

/** What starts a tunnel side's forwarding once the mux is up, and what stops it. */
interface Forwarding {
  attach: (mux: Mux) => void;
  stop: () => void;
}

async function runTunnel(
  side: 'serve' | 'connect',
  values: FlagValues,
  io: CliIo,
  /** Runs before signalling (so a busy --listen fails before any a= line); returns what starts the forwarding. */
  prepare: (report: (value: Record<string, unknown>) => void) => Promise<Forwarding>,
): Promise<number> {
  const command = `tunnel ${side}`;
  const report = (value: Record<string, unknown>) => writeLine(io.stdout, JSON.stringify(value));
  const agent = agentOptions(command, values, side === 'connect' ? 'controlling' : 'controlled');
  const signalling = signallingFlags(command, values);
  let session: Session | undefined;
  let detach: (() => void) | undefined;
  try {
    const forwarding = await prepare(report);
    detach = forwarding.stop;
    session = await connectSession({
      command,
      agent,
      ...signalling,
      input: io.stdin,
      output: io.stdout,
      warn: (m) => io.stderr.write(`ice-tcp: ${m}\n`),
    });
    // stdin carried signalling only
    io.stdin.destroy();
    const { conn } = session;
    report({
      event: 'connected',
      local: endpoint(conn.localCandidate),
      remote: endpoint(conn.remoteCandidate),
    });
    if (!values.json) io.stderr.write(`ice-tcp: connected: ${describePair(session)}\n`);
    const stream: Duplex = conn.stream();
    // the pair's round trip, measured by its checks, decides how far each stream's window grows
    const rttMs = session.agent.getStats().pairs.find((p) => p.selected)?.rttMs;
    const mux = new Mux(stream, { initiator: side === 'connect', rttMs: () => rttMs });
    let failure: Error | undefined;
    mux.on('error', (err) => {
      failure = err;
    });
    stream.on('error', (err) => {
      failure = err;
    });
    const closed = new Promise<void>((resolve) => mux.once('close', resolve));
    forwarding.attach(mux);
    await Promise.race([closed, io.stopped()]);
    if (failure) throw failure;
    report({ event: 'closed' });
    return 0;
  } catch (err) {
    // a listen error (EADDRINUSE, ...) is a socket error like any other: reported with its typed code
    const e = wrapError(err, `${command} failed`);
    report({ event: 'error', code: e.code, message: e.message });
    return 1;
  } finally {
    detach?.();
    io.stdin.destroy();
    session?.close();
    session?.agent.close();
  }
}

/** `ice-tcp tunnel serve --forward HOST:PORT`: next to the service, behind the NAT. */
export const tunnelServe: CliCommand = {
  spec: {
    name: 'tunnel serve',
    summary: 'Behind the NAT, next to the TCP service: connect each tunnelled stream to --forward HOST:PORT.',
    flags: {
      forward: {
        type: 'string',
        value: 'HOST:PORT',
        description: 'the TCP service each stream is connected to (required)',
      },
      ...AGENT_FLAGS,
    },
    notes: NOTES,
  },
  run(values, _positionals, io) {
    const forward = stringFlag(values, 'forward');
    if (forward === undefined) usageError('tunnel serve', 'needs --forward HOST:PORT');
    const target = hostPortValue('tunnel serve', 'forward', forward);
    return runTunnel('serve', values, io, async () => ({
      attach: (mux) =>
        mux.on('stream', (stream) => {
          const socket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
          splice(socket, stream);
        }),
      stop: () => {},
    }));
  },
};

/** `ice-tcp tunnel connect --listen HOST:PORT`: on the client, one stream per accepted TCP connection. */
export const tunnelConnect: CliCommand = {
  spec: {
    name: 'tunnel connect',
    summary:
      'On the client: accept TCP connections on --listen HOST:PORT and tunnel each one to the serve side.',
    flags: {
      listen: {
        type: 'string',
        value: 'HOST:PORT',
        description: 'where to accept local connections (required; port 0 = any, reported in "listening")',
      },
      ...AGENT_FLAGS,
    },
    notes: NOTES,
  },
  run(values, _positionals, io) {
    const listen = stringFlag(values, 'listen');
    if (listen === undefined) usageError('tunnel connect', 'needs --listen HOST:PORT');
    const where = hostPortValue('tunnel connect', 'listen', listen);
    return runTunnel('connect', values, io, async (report) => {
      let mux: Mux | undefined;
      // connections accepted before the ICE-TCP connection is up wait for it, paused
      const early: net.Socket[] = [];
      const tunnelOne = (socket: net.Socket) => {
        if (!mux) {
          socket.pause();
          early.push(socket);
          return;
        }
        let stream: MuxStream;
        try {
          stream = mux.open();
        } catch {
          socket.resetAndDestroy();
          return;
        }
        splice(socket, stream);
      };
      const server = net.createServer({ allowHalfOpen: true }, tunnelOne);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(where.port, where.host, () => resolve());
      });
      return {
        attach: (m) => {
          mux = m;
          for (const socket of early.splice(0)) tunnelOne(socket);
          const address = server.address() as net.AddressInfo;
          report({ event: 'listening', address: address.address, port: address.port });
        },
        stop: () => {
          server.close();
          for (const socket of early.splice(0)) socket.destroy();
        },
      };
    });
  },
};
