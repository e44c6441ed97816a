/**
 * Signature verification: the VerifyPool gives exactly the main thread's
 * answers (it only accelerates), a process awaiting it stays alive until it
 * answers, and the SigCache evicts without ever changing an answer.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VerifyPool, type VerifyItem } from '../../chain/crypto/verify-pool.js';
import { precheckSignature, verifySecp256k1 } from '../../chain/crypto/secp256k1.js';
import { SigCache } from '../../chain/crypto/sig-cache.js';
import { TestKey } from '../helpers/keys.js';
import { highS } from '../helpers/rawtx.js';
import { Rng } from '../helpers/rng.js';
import { startProc } from '../helpers/proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function items(n: number, seed: number): VerifyItem[] {
  const rng = new Rng(seed);
  const keys = Array.from({ length: 8 }, (_, i) => new TestKey(`crypto-${i}`));
  return Array.from({ length: n }, () => {
    const key = rng.pick(keys);
    const msg = rng.bytes(40);
    const digest = createHash('sha256').update(msg).digest();
    let sig: Uint8Array = key.signBytes(msg);
    let pubKey: Uint8Array = key.pub;
    switch (rng.int(9)) {
      case 0: { sig = Uint8Array.from(sig); const at = rng.int(64); sig[at] = sig[at]! ^ (1 << rng.int(8)); break; } // damaged
      case 1: sig = highS(sig); break; // malleable twin
      case 2: pubKey = rng.pick(keys).pub; break; // (probably) another key
      case 3: pubKey = Uint8Array.from([2, ...rng.bytes(32)]); break; // random x: often not on the curve
      case 4: sig = sig.subarray(0, 63); break;
      case 5: sig = new Uint8Array(64); break; // r = s = 0
      default: break; // valid
    }
    return { sig, digest, pubKey };
  });
}

describe('VerifyPool', () => {
  it('gives exactly the main-thread answers, in order, for valid and every kind of invalid signature', async () => {
    const pool = new VerifyPool(2);
    try {
      for (const [n, seed] of [[10, 1], [63, 2], [64, 3], [500, 4]] as const) {
        const xs = items(n, seed);
        const expected = xs.map((x) => verifySecp256k1(x.sig, x.digest, x.pubKey) === 'ok');
        expect(await pool.verify(xs)).toEqual(expected);
        if (n >= 64) expect(expected.filter(Boolean).length).toBeGreaterThan(n / 4);
      }
      // high-S is classified before dispatch and never "valid", even though it verifies mathematically
      const key = new TestKey('hs');
      const msg = Buffer.from('x');
      const sig = highS(key.signBytes(msg));
      expect(precheckSignature(sig)).toBe('high_s');
      expect(await pool.verify(Array.from({ length: 64 }, () => ({ sig, digest: createHash('sha256').update(msg).digest(), pubKey: key.pub })))).toEqual(new Array(64).fill(false));
    } finally {
      await pool.close();
    }
  });

  it('keeps a process alive while a batch is in flight, and lets it exit once idle', async () => {
    const p = startProc(process.execPath, ['--import', 'tsx', join(root, 'test', 'foundation', 'fixtures', 'pool-await.ts')], { cwd: root });
    const exit = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    if (exit === 'hung') await p.kill('SIGKILL');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.lines).toContain('out: verified 200 valid 133');
  });
});

describe('SigCache', () => {
  it('evicts the oldest tenth when full; an entry binds tx hash and account number (which fix the public key)', () => {
    const c = new SigCache(100);
    for (let i = 0; i < 100; i++) c.add(`H${i}`, 1n);
    expect(c.size).toBe(100);
    c.add('H100', 1n);
    expect(c.size).toBe(91);
    expect(c.has('H0', 1n)).toBe(false);
    expect(c.has('H9', 1n)).toBe(false);
    expect(c.has('H10', 1n)).toBe(true);
    expect(c.has('H100', 1n)).toBe(true);
    // the same bytes verified for one account number say nothing about another
    expect(c.has('H10', 2n)).toBe(false);
    c.add('H10', 2n);
    expect(c.has('H10', 2n)).toBe(true);
    expect(c.has('H10', 1n)).toBe(false);
    // re-adding a present hash when full evicts nothing
    c.add('H11', 1n);
    expect(c.size).toBe(91);
    for (let i = 0; i < 9; i++) c.add(`J${i}`, 1n);
    expect(c.size).toBe(100);
    c.add('H12', 1n);
    expect(c.size).toBe(100);
  });
});
