/**
 * A VerifyPool thread that fails must not crash the process (an unhandled 'error' is thrown in it) nor
 * leave its batch unanswered (a block would wait forever): the pool verifies that batch on the calling
 * thread, with the same answers, drops the thread, and goes on with the others or alone.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { VerifyPool, type VerifyItem } from '../../chain/crypto/verify-pool.js';
import { verifySecp256k1 } from '../../chain/crypto/secp256k1.js';
import { TestKey } from '../helpers/keys.js';
import { Rng } from '../helpers/rng.js';

/** n signatures, about a third of them damaged. */
function items(n: number, seed: number): VerifyItem[] {
  const rng = new Rng(seed);
  const keys = Array.from({ length: 4 }, (_, i) => new TestKey(`lost-thread-${i}`));
  return Array.from({ length: n }, () => {
    const key = rng.pick(keys);
    const msg = rng.bytes(40);
    const sig = Uint8Array.from(key.signBytes(msg));
    if (rng.int(3) === 0) sig[rng.int(64)]! ^= 1 << rng.int(8);
    return { sig, digest: createHash('sha256').update(msg).digest(), pubKey: key.pub };
  });
}
const mainThread = (xs: VerifyItem[]) => xs.map((x) => verifySecp256k1(x.sig, x.digest, x.pubKey) === 'ok');

describe('VerifyPool with a thread that fails', () => {
  it('answers the failed thread\'s batch itself, exactly, and keeps answering without the thread', async () => {
    const pool = new VerifyPool(2, new URL('./fixtures/failing-verify-worker.mjs', import.meta.url));
    try {
      const xs = items(200, 1);
      const expected = mainThread(xs);
      expect(expected.filter(Boolean).length).toBeGreaterThan(100);
      expect(expected.some((ok) => !ok)).toBe(true);
      expect(await pool.verify(xs)).toEqual(expected);
      expect(pool.lostThreads).toBe(2);
      expect(pool.size).toBe(0);
      const ys = items(150, 2);
      expect(await pool.verify(ys)).toEqual(mainThread(ys));
    } finally {
      await pool.close();
    }
  });

  it('a thread that cannot start is dropped; a batch sent to it before its failure is known is answered', async () => {
    const pool = new VerifyPool(2, new URL('./fixtures/broken-verify-worker.mjs', import.meta.url));
    try {
      const xs = items(128, 3);
      expect(await pool.verify(xs)).toEqual(mainThread(xs));
      expect(pool.lostThreads).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
