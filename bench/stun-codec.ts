/**
 * STUN codec throughput on a typical ICE connectivity check, against the floor of the cryptography
 * it cannot avoid: one HMAC-SHA1 plus one CRC-32 over the same bytes.
 * Run: npx tsx bench/stun-codec.ts [--runs 5] [--ms 400]
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { StunClass, StunMessage, StunMessageBuilder, StunMethod, shortTermKey } from '../src/stun/index.js';
import { median } from './support.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const runs = option('runs', 5);
const msPerRun = option('ms', 400);

const key = shortTermKey('VOkJxbRl1RmTxUk/WvJxBt');
const keyObject = createSecretKey(key);
const username = 'a1b2c3d4:e5f6g7h8';

function encode(k: Buffer | typeof keyObject): Buffer {
  return new StunMessageBuilder(StunMethod.Binding, StunClass.Request)
    .username(username)
    .priority(1853824767)
    .iceControlling(0x0123456789abcdefn)
    .useCandidate()
    .build({ integrityKey: k, fingerprint: true });
}

const sample = encode(key);
const integrityAt = sample.length - 8 - 24;
const hmacInput = Buffer.from(sample.subarray(0, integrityAt));
hmacInput.writeUInt16BE(integrityAt + 24 - 20, 2);
const crcInput = sample.subarray(0, sample.length - 8);

let sink = 0;

const cases: Record<string, () => void> = {
  floor: () => {
    sink ^= createHmac('sha1', key).update(hmacInput).digest()[0] ?? 0;
    sink ^= crc32(crcInput);
  },
  encodeSign: () => {
    sink ^= encode(key)[0] ?? 0;
  },
  decodeVerify: () => {
    const m = StunMessage.decode(sample);
    if (!m.verifyIntegrity(key) || !m.verifyFingerprint()) throw new Error('verification failed');
    sink ^= m.priority() ?? 0;
  },
  encodeSignKeyObject: () => {
    sink ^= encode(keyObject)[0] ?? 0;
  },
  decodeVerifyKeyObject: () => {
    const m = StunMessage.decode(sample);
    if (!m.verifyIntegrity(keyObject) || !m.verifyFingerprint()) throw new Error('verification failed');
  },
};

/** Nanoseconds per call of `fn` over `calls` calls. */
function nsPerCall(fn: () => void, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / calls;
}

/**
 * One run: the case and the floor alternate in chunks of 500 calls for about `ms` in total, so
 * load from other processes on a shared machine hits both alike. Returns ops/s of each.
 */
function pairedRun(fn: () => void, ms: number): { codec: number; floor: number } {
  let codecNs = 0;
  let floorNs = 0;
  let chunks = 0;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    codecNs += nsPerCall(fn, 500);
    floorNs += nsPerCall(floorCase, 500);
    chunks++;
  }
  return { codec: (1e9 * chunks) / codecNs, floor: (1e9 * chunks) / floorNs };
}

const floorCase = cases.floor ?? (() => {});
const codecCases = Object.entries(cases).filter(([name]) => name !== 'floor');
for (const [name, fn] of codecCases) {
  process.stderr.write(`warming up ${name}\n`);
  pairedRun(fn, 200); // so the JIT has compiled every case before any is measured
}

const opsPerSec: Record<string, number> = {};
const codecTimeOverFloor: Record<string, number> = {};
const floorOps: number[] = [];
for (const [name, fn] of codecCases) {
  const results = Array.from({ length: runs }, () => pairedRun(fn, msPerRun));
  opsPerSec[name] = Math.round(median(results.map((r) => r.codec)));
  floorOps.push(...results.map((r) => r.floor));
  // floor ops/s over codec ops/s is codec time over floor time; paired per run so shared load cancels.
  codecTimeOverFloor[name] = Math.round(median(results.map((r) => r.floor / r.codec)) * 100) / 100;
}
opsPerSec.floor = Math.round(median(floorOps));

console.log(
  JSON.stringify(
    {
      node: process.version,
      message: {
        bytes: sample.length,
        attributes: 'USERNAME PRIORITY ICE-CONTROLLING USE-CANDIDATE MI FINGERPRINT',
      },
      runs,
      msPerRun,
      opsPerSec,
      codecTimeOverFloor,
      goal: 'codecTimeOverFloor <= 2 (codec time per op / floor time per op, encodeSign and decodeVerify)',
      withinGoal:
        (codecTimeOverFloor.encodeSign ?? Number.POSITIVE_INFINITY) <= 2 &&
        (codecTimeOverFloor.decodeVerify ?? Number.POSITIVE_INFINITY) <= 2,
      sink: sink & 1,
    },
    null,
    2,
  ),
);
