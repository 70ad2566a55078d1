/**
 * Setup file of the `unit` project (vitest.config.ts): a unit test that opens a socket or starts a process fails
 * at once with a message that says where it belongs, instead of quietly making the unit run need a network, root
 * or time. Belongs in `loopback` instead: move the file out of the unit folders.
 */
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

function forbidden(what: string): never {
  throw new Error(
    `${what} in a unit test: unit tests use no sockets and no processes (see vitest.config.ts)`,
  );
}

net.Socket.prototype.connect = () => forbidden('net.Socket.connect');
net.Server.prototype.listen = () => forbidden('net.Server.listen');
dgram.Socket.prototype.bind = () => forbidden('dgram.Socket.bind');
dgram.Socket.prototype.send = () => forbidden('dgram.Socket.send');
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  Object.defineProperty(childProcess, name, { value: () => forbidden(`child_process.${name}`) });
}
// Named imports of builtins (`import { spawn } from 'node:child_process'`) see the patched functions only after this.
syncBuiltinESMExports();
