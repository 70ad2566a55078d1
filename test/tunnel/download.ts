/**
 * A plain TCP service and its client for the tunnel tests. A client sends `GET <bytes> <seed>\n` and ends its
 * direction (half-close); the server answers with `<bytes>` bytes of an AES-CTR keystream of the seed, then
 * ends. The client recomputes the keystream's SHA-256, so both sides need no shared file.
 * Run alone (inside a lab namespace): `tsx download.ts serve PORT` or `tsx download.ts fetch HOST PORT STREAMS BYTES`.
 */
import { createCipheriv, createHash } from 'node:crypto';
import net from 'node:net';

const CHUNK = 64 * 1024;
const zeros = Buffer.alloc(CHUNK);

function keystream(seed: string) {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** SHA-256 of the first `bytes` bytes of the seed's keystream. */
export function expectedSha256(seed: string, bytes: number): string {
  const cipher = keystream(seed);
  const hash = createHash('sha256');
  for (let done = 0; done < bytes; done += CHUNK)
    hash.update(cipher.update(zeros.subarray(0, Math.min(CHUNK, bytes - done))));
  return hash.digest('hex');
}

/** Starts the service; resolves with its port. */
export function startDownloadServer(host: string, port = 0): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let request = '';
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      request += d.toString();
    });
    socket.on('end', () => {
      const [verb, size, seed = ''] = request.trim().split(' ');
      const bytes = Number(size);
      if (verb !== 'GET' || !Number.isInteger(bytes)) return socket.resetAndDestroy();
      const cipher = keystream(seed);
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const n = Math.min(CHUNK, bytes - sent);
          sent += n;
          if (!socket.write(cipher.update(zeros.subarray(0, n)))) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** One download: resolves with the SHA-256 of what arrived and the number of bytes. */
export function fetchOnce(
  host: string,
  port: number,
  bytes: number,
  seed: string,
): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const hash = createHash('sha256');
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      hash.update(d);
    });
    socket.on('end', () => {
      socket.end();
      resolve({ sha256: hash.digest('hex'), bytes: received });
    });
    socket.on('error', reject);
    socket.end(`GET ${bytes} ${seed}\n`);
  });
}

/** `streams` parallel downloads of `total / streams` bytes each; resolves with how many matched and the time. */
export async function fetchParallel(
  host: string,
  port: number,
  streams: number,
  total: number,
): Promise<{ ok: number; bytes: number; seconds: number }> {
  const each = Math.floor(total / streams);
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const seed = `stream-${i}-${Math.random()}`;
      const got = await fetchOnce(host, port, each, seed);
      return { got, ok: got.sha256 === expectedSha256(seed, each) && got.bytes === each };
    }),
  );
  return {
    ok: results.filter((r) => r.ok).length,
    bytes: results.reduce((n, r) => n + r.got.bytes, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

if (process.argv[1]?.endsWith('download.ts')) {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'serve') {
    const server = await startDownloadServer('0.0.0.0', Number(args[0]));
    console.log(JSON.stringify({ event: 'listening', port: (server.address() as net.AddressInfo).port }));
  } else if (mode === 'fetch') {
    const [host = '', port, streams, total] = args;
    const result = await fetchParallel(host, Number(port), Number(streams), Number(total));
    console.log(JSON.stringify({ event: 'fetched', ...result }));
  }
}
