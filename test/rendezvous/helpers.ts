import WebSocket from 'ws';
import { IceAgent } from '../../src/agent.js';
import { connectWithSignaller } from '../../src/signalling/attach.js';
import type { WebSocketSignaller } from '../../src/signalling/websocket.js';

/** Two loopback agents connected through two signallers; resolves when one byte went each way. */
export async function connectPair(
  a: WebSocketSignaller,
  b: WebSocketSignaller,
  cleanups: Array<() => void>,
): Promise<void> {
  const options = { addresses: ['127.0.0.1'], tcpTypes: ['active', 'passive'] as const };
  const alice = new IceAgent({ ...options, tcpTypes: [...options.tcpTypes], role: 'controlling' });
  const bob = new IceAgent({ ...options, tcpTypes: [...options.tcpTypes], role: 'controlled' });
  cleanups.push(
    () => alice.close(),
    () => bob.close(),
  );
  const [ca, cb] = await Promise.all([connectWithSignaller(alice, a), connectWithSignaller(bob, b)]);
  const got = new Promise<string>((resolve) => cb.once('packet', (p: Buffer) => resolve(p.toString())));
  ca.send(Buffer.from('hello through the rendezvous'));
  if ((await got) !== 'hello through the rendezvous') throw new Error('wrong bytes');
}

/** A raw WebSocket member of a room that records every text it receives, notices included, in order. */
export interface RawMember {
  ws: WebSocket;
  received: string[];
  /** Resolves once a received text satisfies `match`, with the texts received up to it. */
  until(match: (text: string) => boolean): Promise<string[]>;
  /** Sends a text (once open) and resolves when it has been written. */
  send(text: string): Promise<void>;
}

/** Opens `url` as a raw member; `cleanups` gets its termination. */
export function rawMember(url: string, cleanups: Array<() => void | Promise<void>>): RawMember {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  const received: string[] = [];
  const waiters: Array<() => void> = [];
  const opened = new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  opened.catch(() => {});
  ws.on('message', (data) => {
    received.push(String(data));
    for (const w of waiters.splice(0)) w();
  });
  const until = (match: (text: string) => boolean): Promise<string[]> =>
    new Promise((resolve) => {
      const check = () => {
        const i = received.findIndex(match);
        if (i >= 0) resolve(received.slice(0, i + 1));
        else waiters.push(check);
      };
      check();
    });
  const send = async (text: string) => {
    await opened;
    await new Promise<void>((resolve, reject) => ws.send(text, (err) => (err ? reject(err) : resolve())));
  };
  return { ws, received, until, send };
}

/** The text a rendezvous sends as a notice, for comparing with what a {@link RawMember} received. */
export const notice = {
  welcome: (peers: number) => JSON.stringify({ rendezvous: 'welcome', peers }),
  joined: JSON.stringify({ rendezvous: 'peer-joined' }),
  left: JSON.stringify({ rendezvous: 'peer-left' }),
};

const is = (text: string) => (t: string) => t === text;

/**
 * Two raw members, one on each URL, opened at once; each sends `hi` as soon as it knows the other is in the
 * room (a welcome counting it, or a peer-joined notice), then `bye` once it got the other's `hi`. Resolves with
 * what each received up to the other's `bye`: everything, since each sender's texts arrive in order.
 */
export async function greetEachOther(
  urlA: string,
  urlB: string,
  cleanups: Array<() => void | Promise<void>>,
): Promise<string[][]> {
  const members = [rawMember(urlA, cleanups), rawMember(urlB, cleanups)];
  for (const m of members) {
    void m
      .until((t) => t === notice.joined || t === notice.welcome(1))
      .then(() => m.send('hi'))
      .catch(() => {});
  }
  await Promise.all(members.map((m) => m.until(is('hi'))));
  await Promise.all(members.map((m) => m.send('bye')));
  return Promise.all(members.map((m) => m.until(is('bye'))));
}

/**
 * What a pair's members must have received from {@link greetEachOther}, the shorter list first: the later one
 * counted the earlier in its welcome, the earlier got one peer-joined notice.
 */
export const GREETED = [
  [notice.welcome(1), 'hi', 'bye'],
  [notice.welcome(0), notice.joined, 'hi', 'bye'],
];

/** A pair's lists from {@link greetEachOther}, shorter first, to compare with {@link GREETED}. */
export const byLength = (pair: string[][]): string[][] => [...pair].sort((x, y) => x.length - y.length);
