import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { shortTermKey, StunClass, StunMessageBuilder, StunMethod, newTransactionId } from '../src/stun/index.js';
const key = shortTermKey('VOkJxbRl1RmTxUk/WvJxBt');
const buf = Buffer.alloc(76, 3);
const tid = newTransactionId();
let s = 0;
const floor = () => { s ^= createHmac('sha1', key).update(buf).digest()[0] ?? 0; s ^= crc32(buf); };
const mk = () => new StunMessageBuilder(StunMethod.Binding, StunClass.Request, tid);
const cases: Record<string, () => void> = {
  ctor: () => { mk(); },
  user: () => { mk().username('a1b2c3d4:e5f6g7h8'); },
  prio: () => { mk().priority(1853824767); },
  ctl: () => { mk().iceControlling(0x0123456789abcdefn); },
  usec: () => { mk().useCandidate(); },
  build0: () => { mk().build(); },
  buildfp: () => { mk().build({fingerprint: true}); },
  buildmi: () => { mk().build({integrityKey: key}); },
};
function ns(fn: () => void, n: number) { const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) fn(); return Number(process.hrtime.bigint() - t) / n; }
for (const [name, fn] of Object.entries(cases)) {
  for (let w = 0; w < 20; w++) { ns(fn, 500); ns(floor, 500); }
  const r: number[] = []; const a: number[] = [];
  for (let k = 0; k < 200; k++) { const c = ns(fn, 500); const f = ns(floor, 500); r.push(c / f); a.push(c); }
  r.sort((x, y) => x - y); a.sort((x, y) => x - y);
  console.log(name.padEnd(12), 'ns', a[100]?.toFixed(0), 'of floor', r[100]?.toFixed(2));
}
