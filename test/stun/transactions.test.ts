import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, SocketError } from '../../src/errors.js';
import { StunTransactions } from '../../src/stun/transactions.js';

const id = (n: number) => Buffer.alloc(12, n);
const bytes = Buffer.from('request');

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A table whose sends are counted; `open` false makes every send fail. */
function table(open = true) {
  const sent: Buffer[] = [];
  const t = new StunTransactions<string>((b) => {
    sent.push(b);
    return open;
  });
  return { t, sent };
}

describe('StunTransactions', () => {
  it('matches the answer by transaction id and stops the schedule', async () => {
    const { t, sent } = table();
    const answer = t.request(bytes, id(1), { timeoutMs: 1000, retransmitMs: [100, 300] });
    expect(t.resolve(id(2), 'stray')).toBe(false);
    await vi.advanceTimersByTimeAsync(150);
    expect(sent).toHaveLength(2);
    expect(t.resolve(id(1), 'ok')).toBe(true);
    await expect(answer).resolves.toBe('ok');
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(2);
    expect(t.size).toBe(0);
    expect(t.resolve(id(1), 'late')).toBe(false);
  });

  it('retransmits only before the timeout, then fails with the timeout error', async () => {
    const { t, sent } = table();
    const answer = t.request(bytes, id(1), { timeoutMs: 250, retransmitMs: [100, 250, 700] });
    const settled = expect(answer).rejects.toMatchObject({ code: 'ERR_STUN_TRANSACTION' });
    await vi.advanceTimersByTimeAsync(300);
    await settled;
    expect(sent).toHaveLength(2);
  });

  it('uses the caller timeout error', async () => {
    const { t } = table();
    const answer = t.request(bytes, id(1), {
      timeoutMs: 10,
      timeoutError: () => new SocketError('gone', 'ETIMEDOUT'),
    });
    const settled = expect(answer).rejects.toMatchObject({ code: 'ERR_SOCKET', syscallCode: 'ETIMEDOUT' });
    await vi.advanceTimersByTimeAsync(10);
    await settled;
  });

  it('without a timeout only an answer, the signal or failAll end it', async () => {
    const { t } = table();
    const controller = new AbortController();
    const aborted = t.request(bytes, id(1), { signal: controller.signal });
    const closed = t.request(bytes, id(2), {});
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.size).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    t.failAll(new ClosedError('connection closed'));
    await expect(closed).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(t.size).toBe(0);
  });

  it('cancel() ends one transaction by id with the given error; a reused id still ends the older one', async () => {
    const { t } = table();
    const first = t.request(bytes, id(1), {});
    const other = t.request(bytes, id(2), {});
    expect(t.cancel(id(1), new ClosedError('retired'))).toBe(true);
    await expect(first).rejects.toMatchObject({ code: 'ERR_CLOSED', message: 'retired' });
    expect(t.cancel(id(1), new ClosedError('again'))).toBe(false);
    const reused = t.request(bytes, id(2), {});
    await expect(other).rejects.toMatchObject({
      code: 'ERR_STUN_TRANSACTION',
      message: 'transaction id reused',
    });
    expect(t.resolve(id(2), 'ok')).toBe(true);
    await expect(reused).resolves.toBe('ok');
    expect(t.size).toBe(0);
  });

  it('an abort reason that is an IceTcpError is what the transaction fails with', async () => {
    const { t } = table();
    const controller = new AbortController();
    controller.abort(new ClosedError('agent closed'));
    await expect(t.request(bytes, id(1), { signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_CLOSED',
      message: 'agent closed',
    });
  });

  it('a send that fails ends the transaction at once with ERR_CLOSED', async () => {
    const { t } = table(false);
    const results: unknown[] = [];
    t.start(bytes, id(1), { timeoutMs: 100 }, (r) => results.push(r));
    expect(results).toEqual([{ error: expect.objectContaining({ code: 'ERR_CLOSED' }) }]);
    expect(t.size).toBe(0);
  });
});
