/**
 * MempoolSubmitter's bookkeeping behind the `tx` method's "pending" answer
 * and the "dropped" push (chain/api/submitter.ts), on a mempool stand-in
 * whose inclusion and drop notices the test fires: only a tx CheckTx
 * accepted is pending, it stops being pending once included or dropped, and
 * an inclusion is never reported as a drop.
 */
import { describe, expect, it } from 'vitest';
import { MempoolSubmitter, type MempoolLike, type SubmitResult } from '../../chain/api/index.js';

type Notice = { hash: string; dropped: string } | { hash: string; height: bigint };

/** CheckTx answers code = the tx's first byte; inclusion/drop notices are fired by the test. */
function stubMempool() {
  const listeners = new Map<string, Array<(r: Notice) => void>>();
  const mempool: MempoolLike = {
    size: 0,
    add: (tx): SubmitResult => ({ hash: Buffer.from(tx).toString('hex').toUpperCase(), code: tx[0]!, codespace: tx[0] ? 'tx' : '', log: '', gasWanted: 0n, gasUsed: 0n, events: [] }),
    onInclusion: (hash, l) => listeners.set(hash, [...(listeners.get(hash) ?? []), l]),
  };
  const fire = (r: Notice) => {
    const ls = listeners.get(r.hash) ?? [];
    listeners.delete(r.hash);
    for (const l of ls) l(r);
  };
  return { mempool, fire };
}

describe('MempoolSubmitter pending / dropped', () => {
  it('only an accepted tx is pending, until it is included', async () => {
    const { mempool, fire } = stubMempool();
    const s = new MempoolSubmitter(mempool);
    const refused = await s.submit(Uint8Array.of(4, 1));
    expect(refused.code).toBe(4);
    expect(s.pending(refused.hash)).toBe(false);
    const ok = await s.submit(Uint8Array.of(0, 1));
    expect(s.pending(ok.hash)).toBe(true);
    fire({ hash: ok.hash, height: 5n });
    expect(s.pending(ok.hash)).toBe(false);
  });

  it('reports a drop with its reason, and an inclusion not at all', async () => {
    const { mempool, fire } = stubMempool();
    const s = new MempoolSubmitter(mempool);
    const a = await s.submit(Uint8Array.of(0, 2));
    const b = await s.submit(Uint8Array.of(0, 3));
    const heard: string[] = [];
    s.onDropped(a.hash, (why) => heard.push(`a:${why}`));
    s.onDropped(b.hash, (why) => heard.push(`b:${why}`));
    fire({ hash: a.hash, height: 7n });
    fire({ hash: b.hash, dropped: 'failed recheck' });
    expect(heard).toEqual(['b:failed recheck']);
    expect(s.pending(b.hash)).toBe(false);
  });
});
