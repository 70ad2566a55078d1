import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConnectionTable, type EvictionReason } from '../../src/server/connection-table.js';

/** A stand-in socket: the table only uses sockets as keys. */
function socket(name: string): net.Socket {
  return { name } as unknown as net.Socket;
}

function table(maxConnections: number, maxConnectionsPerIp: number) {
  const evicted: Array<[string, EvictionReason]> = [];
  const t = new ConnectionTable(
    { maxConnections, maxConnectionsPerIp, requestTimeoutMs: 1000, idleTimeoutMs: 30_000 },
    (s, reason) => evicted.push([(s as unknown as { name: string }).name, reason]),
  );
  return { t, evicted };
}

describe('ConnectionTable eviction at the global cap', () => {
  it('resets a connection of a source holding many, not a lone client that arrived before the flood', () => {
    const { t, evicted } = table(12, 64);
    t.admit(socket('legit'), '192.0.2.1', 0);
    for (let i = 0; i < 11; i++) t.admit(socket(`flood${i}`), '198.51.100.7', 1 + i);
    t.admit(socket('flood11'), '198.51.100.7', 20);
    expect(evicted).toEqual([['flood0', 'cap']]);
    t.admit(socket('flood12'), '198.51.100.7', 21);
    expect(evicted.map(([n]) => n)).toEqual(['flood0', 'flood1']);
    expect(t.size).toBe(12);
  });

  it('spreads evictions over the crowded sources as they shrink', () => {
    const { t, evicted } = table(20, 64);
    for (let i = 0; i < 10; i++) t.admit(socket(`a${i}`), '198.51.100.1', i);
    t.admit(socket('c0'), '198.51.100.3', 10);
    for (let i = 0; i < 9; i++) t.admit(socket(`b${i}`), '198.51.100.2', 20 + i);
    t.admit(socket('d0'), '198.51.100.4', 30); // a holds 10: a0 goes
    t.admit(socket('e0'), '198.51.100.5', 31); // a and b hold 9 each: one of them loses its stalest
    expect(evicted[0]).toEqual(['a0', 'cap']);
    expect(['a1', 'b0']).toContain(evicted[1]?.[0]);
    expect(evicted.map(([n]) => n)).not.toContain('c0');
    expect(t.size).toBe(20);
  });

  it('resets the globally stalest when attackers hold one connection per address, not a client holding a few', () => {
    const { t, evicted } = table(6, 64);
    t.admit(socket('bot1'), '203.0.113.1', 0);
    t.admit(socket('bot2'), '203.0.113.2', 1);
    for (let i = 0; i < 3; i++) t.admit(socket(`client${i}`), '192.0.2.50', 2 + i);
    t.admit(socket('bot3'), '203.0.113.3', 5);
    t.admit(socket('bot4'), '203.0.113.4', 6);
    expect(evicted).toEqual([['bot1', 'cap']]);
  });

  it('falls back to the globally stalest when every source holds one connection', () => {
    const { t, evicted } = table(3, 64);
    const x = socket('x');
    t.admit(x, '203.0.113.1', 0);
    t.admit(socket('y'), '203.0.113.2', 1);
    t.admit(socket('z'), '203.0.113.3', 2);
    t.progressed(x, 3);
    t.admit(socket('w'), '203.0.113.4', 4);
    expect(evicted).toEqual([['y', 'cap']]);
  });

  it('keeps its bookkeeping when a per-source cap of one empties a source', () => {
    const { t, evicted } = table(2, 1);
    t.admit(socket('first'), '203.0.113.9', 0);
    t.admit(socket('second'), '203.0.113.9', 1);
    expect(evicted).toEqual([['first', 'ip-cap']]);
    t.admit(socket('other'), '203.0.113.10', 2);
    t.admit(socket('third'), '203.0.113.11', 3);
    expect(evicted.map(([n]) => n)).toEqual(['first', 'second']);
    expect(t.size).toBe(2);
    t.clear();
    expect(t.size).toBe(0);
  });
});
