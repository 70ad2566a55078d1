import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { linePerTurn } from '../../src/cli/line-turns.js';

describe('linePerTurn (the peer lines of `ice-tcp connect`)', () => {
  it('hands over one line per turn: what a line starts on nextTick (a dial) runs before the next line', async () => {
    const input = new PassThrough();
    const seen: string[] = [];
    const out = linePerTurn(input);
    out.on('data', (chunk: Buffer) => {
      const line = chunk.toString();
      seen.push(line);
      // the agent's dial after a candidate line: net.connect connects on process.nextTick
      process.nextTick(() => seen.push(`tick after ${line.trim()}`));
    });
    const ended = new Promise((resolve) => out.on('end', resolve));
    input.end('a=ice-ufrag:abcd\na=candidate:1\na=candidate:2\n\n');
    await ended;
    expect(seen).toEqual([
      'a=ice-ufrag:abcd\n',
      'tick after a=ice-ufrag:abcd',
      'a=candidate:1\n',
      'tick after a=candidate:1',
      'a=candidate:2\n',
      'tick after a=candidate:2',
      '\n',
      'tick after ',
    ]);
  });

  it('keeps characters split across chunks and a last line without newline, and bounds what it holds', async () => {
    const input = new PassThrough();
    const out = linePerTurn(input);
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const ended = new Promise((resolve) => out.on('end', resolve));
    const euro = Buffer.from('€\n');
    input.write(euro.subarray(0, 1));
    input.write(euro.subarray(1));
    // a 200 KiB line in 1 KiB pieces: passed on by the 64 KiB, never held whole
    for (let i = 0; i < 200; i++) {
      input.write('x'.repeat(1024));
      await new Promise((resolve) => setImmediate(resolve));
    }
    input.end('tail');
    await ended;
    expect(chunks[0]).toBe('€\n');
    expect(chunks.slice(1).join('')).toBe(`${'x'.repeat(200 * 1024)}tail`);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(65 * 1024);
  });
});
