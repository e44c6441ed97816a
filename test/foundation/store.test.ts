/**
 * Store layer: Merkle app hash (chain/store/merkle.ts), Branch
 * (write-or-drop), CommittedState, SqliteStore, and the App's commit/reload
 * round trip through sqlite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MAX_FLAT, MerkleIndex, bucketOf, leafHash, verifyProof, withLeafHashes, type MerkleProof } from '../../chain/store/merkle.js';
import { Branch } from '../../chain/store/branch.js';
import { CommittedState } from '../../chain/store/committed.js';
import { SqliteStore } from '../../chain/store/sqlite.js';
import { App } from '../../chain/app.js';
import { TestChain } from '../helpers/chain.js';
import { Rng } from '../helpers/rng.js';
import { hex, stateEntries } from '../helpers/state.js';
import { groundKeys } from '../helpers/merkle.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const v = (s: string): Uint8Array => Buffer.from(s);

function treeOf(entries: Iterable<[string, Uint8Array | null]>): MerkleIndex {
  const m = new MerkleIndex();
  m.update([...entries]);
  return m;
}

function sampleState(n: number, seed = 1): Array<[string, Uint8Array]> {
  const rng = new Rng(seed);
  const out = new Map<string, Uint8Array>();
  while (out.size < n) out.set(`bank/bal/k${rng.u32().toString(36)}`, rng.bytes(rng.range(1, 40)));
  return [...out.entries()];
}

/** Keys that land in the same bucket as `key` (so proofs carry several entries). */
function sameBucketKeys(key: string, n: number): string[] {
  const b = bucketOf(key);
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const k = `bank/bal/c${i}`;
    if (k !== key && bucketOf(k) === b) out.push(k);
  }
  return out;
}

describe('MerkleIndex: the app hash', () => {
  it('the empty tree has the all-zero root', () => {
    expect(hex(new MerkleIndex().root())).toBe('00'.repeat(32));
    const m = treeOf([['a/b/c', v('1')]]);
    m.update([['a/b/c', null]]);
    expect(hex(m.root())).toBe('00'.repeat(32));
  });

  it('changes when any single value changes, when a key is added and when one is deleted', () => {
    const entries = sampleState(300);
    const m = treeOf(entries);
    const base = hex(m.root());
    const seen = new Set([base]);
    for (const [k, val] of entries) {
      const changed = Uint8Array.from(val);
      changed[0] = changed[0]! ^ 1;
      m.update([[k, changed]]);
      const h = hex(m.root());
      expect(seen.has(h), `changing ${k} must give a new root`).toBe(false);
      seen.add(h);
      m.update([[k, val]]);
      expect(hex(m.root())).toBe(base); // and back
      m.update([[k, null]]);
      expect(hex(m.root())).not.toBe(base);
      m.update([[k, val]]);
      expect(hex(m.root())).toBe(base);
    }
    m.update([['bank/bal/new', v('x')]]);
    expect(hex(m.root())).not.toBe(base);
    // Same bytes under a different key, and key/value boundary shifts, give different leaves.
    expect(hex(leafHash('a/b/cd', v('e')))).not.toBe(hex(leafHash('a/b/c', v('de'))));
  });

  it('equals a from-the-spec computation of the root (the format in merkle.ts, written out naively here)', () => {
    // sha256 through createHash, the tree built level by level from all 65,536 buckets: nothing shared with the index
    const H = (...parts: Uint8Array[]) => {
      const h = createHash('sha256');
      for (const p of parts) h.update(p);
      return h.digest();
    };
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const Z = Buffer.alloc(32);
    const specRoot = (entries: Array<[string, Uint8Array]>): Buffer => {
      const buckets = new Map<number, Array<[string, Uint8Array]>>();
      for (const e of entries) {
        const b = bucketOf(e[0]);
        buckets.set(b, [...(buckets.get(b) ?? []), e]);
      }
      let level: Buffer[] = [];
      for (let b = 0; b < 65_536; b++) {
        const list = (buckets.get(b) ?? []).sort((x, y) => (x[0] < y[0] ? -1 : 1));
        if (list.length === 0) {
          level.push(Z);
          continue;
        }
        const keys = H(Buffer.from([3]), ...list.flatMap(([k]) => [u32(k.length), Buffer.from(k, 'latin1')]));
        const leaves = list.map(([k, x]) => H(Buffer.from([0]), u32(k.length), Buffer.from(k, 'latin1'), x));
        level.push(H(Buffer.from([1]), keys, ...leaves));
      }
      while (level.length > 1) {
        const up: Buffer[] = [];
        for (let i = 0; i < level.length; i += 16) {
          const kids = level.slice(i, i + 16);
          up.push(kids.every((k) => k.equals(Z)) ? Z : H(Buffer.from([2]), ...kids));
        }
        level = up;
      }
      return level[0]!;
    };
    const entries = sampleState(400, 9);
    const m = treeOf(entries);
    expect(hex(m.root())).toBe(hex(specRoot(entries)));
    // and after updates and deletes through the incremental path
    const changed: Array<[string, Uint8Array | null]> = entries.slice(0, 120).map(([k], i) => [k, i % 3 === 0 ? null : v(`new${i}`)]);
    m.update(changed);
    const final = new Map(entries);
    for (const [k, x] of changed) if (x === null) final.delete(k); else final.set(k, x);
    expect(hex(m.root())).toBe(hex(specRoot([...final.entries()])));
  });

  it('withLeafHashes gives each change its own leaf (leafHash of key and value), null for a delete', () => {
    const entries = sampleState(50, 4);
    const changes: Array<[string, Uint8Array | null]> = entries.map(([k, x], i) => [k, i % 7 === 0 ? null : x]);
    const out = withLeafHashes(changes);
    expect(out.length).toBe(changes.length);
    for (let i = 0; i < changes.length; i++) {
      const [k, x] = changes[i]!;
      expect(out[i]![0]).toBe(k);
      expect(out[i]![1]).toBe(x);
      if (x === null) expect(out[i]![2]).toBeNull();
      else expect(hex(out[i]![2]!)).toBe(hex(leafHash(k, x)));
    }
  });

  it('is independent of insertion order, batching and history (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,3}\/[a-z]{1,3}\/[a-z0-9]{0,6}$/), fc.uint8Array({ minLength: 0, maxLength: 8 })), { selector: (e) => e[0], maxLength: 60 }),
        fc.array(fc.stringMatching(/^[a-z]{1,3}\/[a-z]{1,3}\/[a-z0-9]{0,6}$/), { maxLength: 10 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (entries, transient, seed) => {
          const final = new Map(entries);
          const reference = treeOf([...final.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
          // Another history: shuffled, in random batches, with transient keys created and deleted and values overwritten.
          const rng = new Rng(seed);
          const m = new MerkleIndex();
          const ops: Array<[string, Uint8Array | null]> = [];
          for (const t of transient) if (!final.has(t)) ops.push([t, v('tmp')]);
          for (const [k] of entries) ops.push([k, v('stale')]);
          for (const [k, val] of rng.shuffle(entries)) ops.push([k, val]);
          for (const t of transient) if (!final.has(t)) ops.push([t, null]);
          let i = 0;
          while (i < ops.length) {
            const n = rng.range(1, 7);
            m.update(ops.slice(i, i + n));
            i += n;
          }
          expect(hex(m.root())).toBe(hex(reference.root()));
          // Bulk load (startup from disk) gives the same root too.
          const loaded = new MerkleIndex();
          for (const [k, val] of [...final.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) loaded.loadLeaf(k, leafHash(k, val));
          loaded.rebuild();
          expect(hex(loaded.root())).toBe(hex(reference.root()));
          // …and keeps agreeing after further updates (bulk-loaded buckets behave like any other).
          const more: Array<[string, Uint8Array | null]> = [...final.keys()].slice(0, 5).map((k, j) => [k, j % 2 ? null : v(`u${j}`)]);
          more.push(['zz/zz/new', v('n')]);
          loaded.update(more);
          reference.update(more);
          expect(hex(loaded.root())).toBe(hex(reference.root()));
          for (const [k] of more) expect(loaded.prove(k)).toEqual(reference.prove(k));
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  describe('proofs', () => {
    const entries = sampleState(2_000, 7);
    const crowded = 'bank/bal/crowded';
    const neighbours = sameBucketKeys(crowded, 4);
    const all: Array<[string, Uint8Array]> = [...entries, [crowded, v('c')], ...neighbours.map((k, i): [string, Uint8Array] => [k, v(`n${i}`)])];
    const m = treeOf(all);
    const root = m.root();

    it('verify for present keys (including a bucket with several keys)', () => {
      for (const [k, val] of [...all.slice(0, 200), ...all.slice(-5)]) {
        const p = m.prove(k);
        expect(verifyProof(p, val, root), k).toBe(true);
      }
      expect(m.prove(crowded).entries.length).toBeGreaterThanOrEqual(5);
    });

    it('verify absence for absent keys (empty buckets and crowded ones)', () => {
      const absent = ['bank/bal/nope', 'zz/zz/zz', ...sameBucketKeys(crowded, 7).slice(4)];
      for (const k of absent) {
        const p = m.prove(k);
        expect(verifyProof(p, null, root), k).toBe(true);
        expect(verifyProof(p, v('anything'), root), k).toBe(false);
      }
    });

    it('fail for a wrong or tampered value, a wrong root, a claimed absence of a present key', () => {
      const [k, val] = all[all.length - 3]!;
      const p = m.prove(k);
      const wrong = Uint8Array.from(val);
      wrong[0] = wrong[0]! ^ 0x80;
      expect(verifyProof(p, wrong, root)).toBe(false);
      expect(verifyProof(p, null, root)).toBe(false);
      const otherRoot = Buffer.from(root);
      otherRoot[0] = otherRoot[0]! ^ 1;
      expect(verifyProof(p, val, otherRoot)).toBe(false);
    });

    it('fail when the proof itself is tampered with', () => {
      const key = crowded;
      const p = m.prove(key);
      const tamper = (f: (q: MerkleProof) => void): MerkleProof => {
        const q = structuredClone(p);
        f(q);
        return q;
      };
      const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
      // A forged leaf for the key.
      expect(verifyProof(tamper((q) => (q.entries.find((e) => e.key === key)!.leaf = leafHash(key, v('forged')).toString('hex'))), v('forged'), root)).toBe(false);
      // A changed sibling hash at any level.
      for (let l = 0; l < p.levels.length; l++) {
        expect(verifyProof(tamper((q) => (q.levels[l]![(q.bucket >>> (4 * l)) % 16 === 0 ? 1 : 0] = flip(q.levels[l]![(q.bucket >>> (4 * l)) % 16 === 0 ? 1 : 0]!))), v('c'), root)).toBe(false);
      }
      // Wrong bucket number, missing level, short row.
      expect(verifyProof(tamper((q) => (q.bucket = (q.bucket + 1) & 0xffff)), v('c'), root)).toBe(false);
      expect(verifyProof(tamper((q) => q.levels.pop()), v('c'), root)).toBe(false);
      expect(verifyProof(tamper((q) => q.levels[0]!.pop()), v('c'), root)).toBe(false);
      // Fake absence by dropping the key's entry from its bucket.
      expect(verifyProof(tamper((q) => (q.entries = q.entries.filter((e) => e.key !== key))), null, root)).toBe(false);
      // Fake absence by renaming the key's entry (keeping its leaf hash, so the bucket's leaves are unchanged).
      expect(verifyProof(tamper((q) => (q.entries.find((e) => e.key === key)!.key = key + '0')), null, root)).toBe(false);
      // Fake absence by swapping two entries' keys.
      expect(
        verifyProof(
          tamper((q) => {
            const i = q.entries.findIndex((e) => e.key === key);
            const j = i === 0 ? 1 : 0;
            const ki = q.entries[i]!.key;
            q.entries[i]!.key = q.entries[j]!.key;
            q.entries[j]!.key = ki;
          }),
          null,
          root,
        ),
      ).toBe(false);
    });
    // A node holds every level hash of the tree, so it can assemble "proofs" from real hashes placed where
    // they do not belong. Each forgery below claims a present key absent; each verified before the proof's
    // shape was checked (path length, 32-byte siblings, entries of the proof's bucket).
    describe('forged absence of a present key, from the tree\'s real hashes', () => {
      const levelHashes = (m as unknown as { levelHashes: Buffer[] }).levelHashes; // [l] = groups of [0x02 | 16 hashes]
      const GROUP = 1 + 32 * 16;
      const at = (i: number) => (i >>> 4) * GROUP + 1 + (i & 15) * 32;
      const node = (l: number, i: number) => levelHashes[l]!.subarray(at(i), at(i) + 32);
      const groupHex = (l: number, g: number) => Array.from({ length: 16 }, (_, j) => node(l, g * 16 + j).toString('hex'));
      const isZero = (b: Buffer) => b.every((x) => x === 0);
      const digits = (x: number) => [x & 15, (x >> 4) & 15, (x >> 8) & 15, (x >> 12) & 15];
      /** The honest row re-split so that slot `want` holds the real hash at `realPos` (children of other lengths). */
      const resplit = (honest: string[], want: number, realPos: number): string[] | undefined => {
        const g = honest.join('');
        if (/^0*$/.test(g)) return undefined;
        if (want === realPos) return honest;
        if (want === 0 || want === 15) return undefined;
        const kids = new Array<string>(16).fill('');
        kids[0] = g.slice(0, realPos * 64);
        kids[want] = g.slice(realPos * 64, realPos * 64 + 64);
        kids[15] = g.slice(realPos * 64 + 64);
        return kids;
      };
      /** Present keys whose forged path (re-split rows over another, non-empty bucket's real entries) exists. */
      const forgeResplit = (key: string): MerkleProof | undefined => {
        const want = digits(bucketOf(key));
        const buckets = (m as unknown as { buckets: Array<{ keys: string[]; leaves: Buffer } | undefined> }).buckets;
        for (let e = 0; e < 65536; e++) {
          const bk = buckets[e];
          if (!bk || e === bucketOf(key)) continue;
          const real = digits(e);
          const levels: string[][] = [];
          let idx = e;
          for (let l = 0; l < 4; l++) {
            const row = resplit(groupHex(4 - l, idx >>> 4), want[l]!, real[l]!);
            if (!row) break;
            levels.push(row);
            idx >>>= 4;
          }
          if (levels.length < 4) continue;
          const leaves = bk.leaves;
          return { key, bucket: bucketOf(key), inner: [], entries: bk.keys.map((k, i) => ({ key: k, leaf: leaves.subarray(32 * i, 32 * i + 32).toString('hex') })), levels, root: hex(root) };
        }
        return undefined;
      };

      it('a path of three levels ending at an empty level-3 node', () => {
        const [key, val] = all.find(([k]) => isZero(node(3, bucketOf(k) & 0xfff)))!;
        const b = bucketOf(key);
        const forged: MerkleProof = { key, bucket: b, inner: [], entries: [], levels: [groupHex(3, (b & 0xfff) >>> 4), groupHex(2, (b & 0xfff) >>> 8), groupHex(1, 0)], root: hex(root) };
        expect(verifyProof(m.prove(key), val, root)).toBe(true);
        expect(verifyProof(forged, null, root)).toBe(false);
      });

      it('four levels of re-split sibling rows over another bucket\'s real entries', () => {
        let forged: MerkleProof | undefined;
        for (const [k] of all) if ((forged = forgeResplit(k))) break;
        expect(forged, 'no key of the sample state allows the forgery: pick another state').toBeDefined();
        expect(verifyProof(forged!, null, root)).toBe(false);
        // the same forgery with the entries' keys hashed to the right bucket is still refused (row lengths)
        expect(verifyProof({ ...forged!, entries: [] }, null, root)).toBe(false);
      });
    });

    it('refuse keys above U+00FF (their low bytes alias another key)', () => {
      const [key, val] = all[0]!;
      // two chars raised by multiples of 0x100 (same low bytes) until the alias lands in the key's own bucket
      const raise = (a: number, b: number) => [...key].map((ch, i) => (i === key.length - 1 ? String.fromCharCode(ch.charCodeAt(0) + 0x100 * a) : i === key.length - 2 ? String.fromCharCode(ch.charCodeAt(0) + 0x100 * b) : ch)).join('');
      let alias = '';
      for (let a = 1; a < 255 && !alias; a++) for (let b = 0; b < 255 && !alias; b++) if (bucketOf(raise(a, b)) === bucketOf(key)) alias = raise(a, b);
      expect(alias, 'no alias in the same bucket found').not.toBe('');
      const p = m.prove(key);
      expect(verifyProof(p, val, root)).toBe(true);
      expect(verifyProof({ ...p, key: alias, bucket: bucketOf(alias), entries: p.entries.map((e) => (e.key === key ? { ...e, key: alias } : e)) }, val, root)).toBe(false);
    });
  });

  it('App.query(store/<key>) refuses a key with a character above U+00FF instead of answering for its low-byte alias', () => {
    const c = TestChain.create({ accounts: 1 });
    c.block();
    const key = `bank/bal/${c.keys[0]!.address}`;
    expect(c.app.query({ path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: false }).value.length).toBeGreaterThan(0);
    const alias = key.slice(0, -1) + String.fromCharCode(key.charCodeAt(key.length - 1) + 0x100);
    const r = c.app.query({ path: `store/${alias}`, data: new Uint8Array(), height: 0n, prove: true });
    expect(r.code).not.toBe(0);
    expect(r.log).toMatch(/above U\+00FF/);
  });

  it('App.query(store/<key>, prove) answers with a proof that verifies against the app hash', async () => {
    const c = TestChain.create({ accounts: 3 });
    c.block();
    c.block([await c.send(c.keys[0]!, c.keys[1]!.address, 5n)]);
    for (const key of [`bank/bal/${c.keys[1]!.address}`, `auth/acc/${c.keys[0]!.address}`, 'bank/bal/perp1absent']) {
      const r = c.app.query({ path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: true });
      expect(r.code).toBe(0);
      const proof = JSON.parse(Buffer.from(r.proof!).toString()) as MerkleProof;
      expect(proof.root).toBe(hex(c.app.appHash).toLowerCase());
      expect(verifyProof(proof, r.value.length ? r.value : null, c.app.appHash), key).toBe(true);
    }
  });

  it('between FinalizeBlock and Commit a proof is refused (the tree already holds the pending block), not mixed with committed values', async () => {
    const c = TestChain.create({ accounts: 3 });
    c.block();
    const key = `bank/bal/${c.keys[1]!.address}`;
    const q = () => c.app.query({ path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: true });
    const before = q();
    c.app.finalizeBlock({ txs: [await c.send(c.keys[0]!, c.keys[1]!.address, 5n)], height: c.app.height + 1n, timeNs: 10_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    const pending = q();
    expect({ codespace: pending.codespace, code: pending.code }).toEqual({ codespace: 'query', code: 5 });
    expect(pending.log).toMatch(/is finalized but not committed; ask again after its Commit/);
    // without a proof the committed value is still served
    const plain = c.app.query({ path: `store/${key}`, data: new Uint8Array(), height: 0n, prove: false });
    expect(plain.code).toBe(0);
    expect(hex(plain.value)).toBe(hex(before.value));
    c.app.commit();
    const after = q();
    expect(after.code).toBe(0);
    const proof = JSON.parse(Buffer.from(after.proof!).toString()) as MerkleProof;
    expect(verifyProof(proof, after.value, c.app.appHash)).toBe(true);
    expect(hex(after.value)).not.toBe(hex(before.value));
  });
});

describe('CommittedState', () => {
  it('applies sorted change sets across tables exactly like a plain map (property)', () => {
    // table names that are prefixes of one another's text ("a/b/" and "a/bc/"), keys with more slashes
    const key = fc.tuple(fc.constantFrom('a/b/', 'a/bc/', 'ab/c/', 'b/b/'), fc.stringMatching(/^[a-z0-9/]{0,4}$/)).map(([t, r]) => t + r);
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.tuple(key, fc.option(fc.uint8Array({ minLength: 1, maxLength: 3 }))), { selector: (e) => e[0], maxLength: 25 }), { maxLength: 8 }), (blocks) => {
        const s = new CommittedState();
        const model = new Map<string, Uint8Array>();
        for (const block of blocks) {
          const sorted = [...block].sort((x, y) => (x[0] < y[0] ? -1 : 1));
          s.apply(sorted);
          for (const [k, x] of sorted) if (x === null) model.delete(k); else model.set(k, x);
          expect(s.size).toBe(model.size);
          for (const [k] of sorted) expect(s.get(k) && hex(s.get(k)!)).toBe(model.get(k) && hex(model.get(k)!));
          for (const t of ['a/b/', 'a/bc/', 'ab/c/', 'b/b/']) {
            expect(s.scanTable(t).map(([k]) => k)).toEqual([...model.keys()].filter((k) => k.startsWith(t)).sort());
          }
        }
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('Branch: write or drop', () => {
  function base(): CommittedState {
    const s = new CommittedState();
    s.apply([
      ['t/a/1', v('a1')],
      ['t/a/2', v('a2')],
      ['t/b/1', v('b1')],
    ]);
    return s;
  }

  it('reads fall through; writes and deletes stay in the branch until write()', () => {
    const s = base();
    const parent = new Branch(s);
    const b = new Branch(parent);
    b.set('t/a/3', v('a3'));
    b.set('t/a/1', v('A1'));
    b.delete('t/a/2');
    expect(Buffer.from(b.get('t/a/1')!).toString()).toBe('A1');
    expect(b.get('t/a/2')).toBeUndefined();
    expect(Buffer.from(b.get('t/b/1')!).toString()).toBe('b1');
    // the parent has seen nothing
    expect(Buffer.from(parent.get('t/a/1')!).toString()).toBe('a1');
    expect(parent.get('t/a/3')).toBeUndefined();
    expect(parent.size).toBe(0);
    b.write();
    expect(b.size).toBe(0);
    expect(Buffer.from(parent.get('t/a/1')!).toString()).toBe('A1');
    expect(parent.get('t/a/2')).toBeUndefined();
    expect(parent.changeSet().map(([k, x]) => [k, x === null ? null : Buffer.from(x).toString()])).toEqual([
      ['t/a/1', 'A1'],
      ['t/a/2', null],
      ['t/a/3', 'a3'],
    ]);
    // the committed state is untouched until it applies the change set
    expect(Buffer.from(s.get('t/a/2')!).toString()).toBe('a2');
    s.apply(parent.changeSet());
    expect(s.get('t/a/2')).toBeUndefined();
    expect(s.size).toBe(3);
  });

  it('dropping a branch (not calling write) discards every write', () => {
    const s = base();
    const parent = new Branch(s);
    const b = new Branch(parent);
    b.set('t/a/1', v('X'));
    b.delete('t/b/1');
    // dropped: nothing to do
    expect(parent.size).toBe(0);
    expect(Buffer.from(parent.get('t/a/1')!).toString()).toBe('a1');
    expect(parent.get('t/b/1')).toBeDefined();
  });

  it('delete then set, set then delete: the last operation wins', () => {
    const b = new Branch(base());
    b.delete('t/a/1');
    b.set('t/a/1', v('again'));
    expect(Buffer.from(b.get('t/a/1')!).toString()).toBe('again');
    b.set('t/a/9', v('x'));
    b.delete('t/a/9');
    expect(b.get('t/a/9')).toBeUndefined();
    expect(b.changeSet().map(([k, x]) => [k, x === null ? null : Buffer.from(x).toString()])).toEqual([
      ['t/a/1', 'again'],
      ['t/a/9', null],
    ]);
  });

  it('scanTable merges pending writes, sorted, per table only', () => {
    const b = new Branch(base());
    b.set('t/a/0', v('a0'));
    b.delete('t/a/2');
    b.set('t/c/1', v('c1'));
    const nested = new Branch(b);
    nested.set('t/a/5', v('a5'));
    expect(nested.scanTable('t/a/').map(([k]) => k)).toEqual(['t/a/0', 't/a/1', 't/a/5']);
    expect(nested.scanTable('t/b/').map(([k]) => k)).toEqual(['t/b/1']);
    expect(nested.scanTable('t/c/').map(([k]) => k)).toEqual(['t/c/1']);
    expect(b.scanTable('t/a/').map(([k]) => k)).toEqual(['t/a/0', 't/a/1']);
  });

  it('write() into a read-only parent throws; changeSet is sorted whatever the write order', () => {
    const b = new Branch(base());
    b.set('t/z/1', v('1'));
    b.set('t/a/1', v('1'));
    b.set('t/m/1', v('1'));
    expect(b.changeSet().map(([k]) => k)).toEqual(['t/a/1', 't/m/1', 't/z/1']);
    expect(() => b.write()).toThrow(/read-only/);
  });

  it('nested tx branches over a block branch: a dropped tx leaves the block as it was (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.constantFrom('t/a/1', 't/a/2', 't/b/1', 't/b/2'), fc.option(fc.string({ maxLength: 3 }), { nil: null })), { maxLength: 6 })), { maxLength: 12 }), (txs) => {
        const s = base();
        const block = new Branch(s);
        const model = new Map<string, string | null>([...s.entries()].map(([k, x]) => [k, Buffer.from(x).toString()]));
        for (const [keep, ops] of txs) {
          const t = new Branch(block);
          const local = new Map(model);
          for (const [k, x] of ops) {
            if (x === null) t.delete(k);
            else t.set(k, v(x));
            local.set(k, x);
          }
          if (keep) {
            t.write();
            for (const [k, x] of local) model.set(k, x);
          }
        }
        for (const [k, x] of model) expect(block.get(k) === undefined ? null : Buffer.from(block.get(k)!).toString()).toBe(x);
        // committing the block's change set gives the model's state
        s.apply(block.changeSet());
        expect([...s.entries()].map(([k, x]) => [k, Buffer.from(x).toString()])).toEqual([...model.entries()].filter(([, x]) => x !== null).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('SqliteStore and the App on disk', () => {
  it('commit → close → reopen gives back every key, value, leaf, the height and the app hash', () => {
    const path = join(tmp, 'raw.db');
    const db = new SqliteStore(path);
    const entries = sampleState(500, 3);
    const m = treeOf(entries);
    db.commit({ height: 1n, appHash: m.root(), changes: entries.map(([k, x]) => [k, x, leafHash(k, x)]) });
    const [dk] = entries[10]!;
    m.update([[dk, null]]);
    db.commit({ height: 2n, appHash: m.root(), changes: [[dk, null, null]] });
    db.setMeta('chain_id', v('c-1'));
    db.close();

    const again = new SqliteStore(path);
    expect(again.lastCommitted().height).toBe(2n);
    expect(hex(again.lastCommitted().appHash)).toBe(hex(m.root()));
    expect(again.meta('chain_id')?.toString()).toBe('c-1');
    const rows = [...again.loadAll()];
    expect(rows.length).toBe(499);
    expect(rows.map((r) => r.key)).toEqual(entries.map(([k]) => k).filter((k) => k !== dk).sort());
    const byKey = new Map(entries);
    const rebuilt = new MerkleIndex();
    for (const r of rows) {
      expect(hex(r.value)).toBe(hex(byKey.get(r.key)!));
      expect(hex(r.leaf)).toBe(hex(leafHash(r.key, r.value)));
      rebuilt.loadLeaf(r.key, r.leaf);
    }
    rebuilt.rebuild();
    expect(hex(rebuilt.root())).toBe(hex(m.root()));
    again.close();
  });

  it('values of any bytes come back from the merged table exactly, and a damaged leaf there stops the load', () => {
    // loadAll reads value ‖ leaf as one blob per row: NULs, 0xFF and bytes that are not UTF-8 must pass through untouched
    const path = join(tmp, 'bytes.db');
    const db = new SqliteStore(path);
    const rng = new Rng(11);
    const odd = [new Uint8Array(0), Buffer.from([0]), Buffer.from([0, 0, 0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80, 0]), Buffer.alloc(70, 0xff)];
    const entries: Array<[string, Uint8Array]> = odd.map((x, i) => [`t/odd/${i}`, x]);
    for (let i = 0; i < 300; i++) entries.push([`t/rnd/${String(i).padStart(3, '0')}`, rng.bytes(rng.range(0, 90))]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const m = treeOf(entries);
    db.commit({ height: 1n, appHash: m.root(), changes: entries.map(([k, x]) => [k, x, leafHash(k, x)]) });
    db.checkpoint(); // into kv: loadAll now reads the table, not the change log
    expect(db.pendingChangeSets).toBe(0);
    db.close();

    const again = new SqliteStore(path);
    const rows = [...again.loadAll()];
    expect(rows.map((r) => [r.key, hex(r.value), hex(r.leaf)])).toEqual(entries.map(([k, x]) => [k, hex(x), hex(leafHash(k, x))]));
    // bulk-load those leaves (in key order, as App.open does) and the root is the incremental tree's
    const rebuilt = new MerkleIndex();
    for (const r of rows) rebuilt.loadLeaf(r.key, r.leaf);
    rebuilt.rebuild();
    expect(hex(rebuilt.root())).toBe(hex(m.root()));
    again.close();

    const raw = new Database(path);
    raw.prepare('UPDATE kv SET value = ? WHERE key = ?').run(Buffer.from([1, 2, 3]), 't/odd/2');
    raw.close();
    const damaged = new SqliteStore(path);
    expect(() => [...damaged.loadAll()]).toThrow(/value of "t\/odd\/2" .* does not match its Merkle leaf/);
    damaged.close();
  });

  it('the reader thread gives the same entries as reading inline, with the change log merged, and stops at a damaged leaf', () => {
    const path = join(tmp, 'threaded.db');
    const db = new SqliteStore(path);
    const rng = new Rng(12);
    // enough rows for several of the worker's 4 MiB batches, a few odd values, then a logged (unmerged) block
    const entries: Array<[string, Uint8Array]> = [];
    for (let i = 0; i < 40_000; i++) entries.push([`t/r/${String(i).padStart(6, '0')}`, rng.bytes(rng.range(0, 200))]);
    entries.push(['t/odd/0', new Uint8Array(0)], ['t/odd/1', Buffer.from([0, 0xff, 0xc3, 0x28])]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const m = treeOf(entries);
    db.commit({ height: 1n, appHash: m.root(), changes: entries.map(([k, x]) => [k, x, leafHash(k, x)]) });
    db.checkpoint();
    const logged: Array<[string, Uint8Array | null]> = [
      ['t/a/new', v('before every merged key')],
      ['t/r/000005', null],
      ['t/r/020000', v('replaced')],
      ['t/z/new', v('after every merged key')],
    ];
    m.update(logged);
    db.commit({ height: 2n, appHash: m.root(), changes: logged.map(([k, x]) => [k, x, x === null ? null : leafHash(k, x)]) });
    expect(db.pendingChangeSets).toBe(1);
    const dump = (rows: Iterable<{ key: string; value: Buffer; leaf: Buffer }>) => [...rows].map((r) => `${r.key}=${hex(r.value)}/${hex(r.leaf)}`);
    const inline = dump(db.loadAll());
    const threaded = dump(db.loadAll({ thread: true }));
    expect(threaded.length).toBe(entries.length + 2 - 1);
    expect(threaded).toEqual(inline);
    expect(inline.find((x) => x.startsWith('t/r/020000='))).toContain(hex(v('replaced')));
    db.close();

    // the App gives the same state and root either way
    const roots = [true, false].map((loadThread) => {
      const app = App.open({ dbPath: path, loadThread });
      const out = [hex(app.appHash), stateEntries(app).length];
      app.close();
      return out;
    });
    expect(roots[0]).toEqual(roots[1]);
    expect(roots[0]![0]).toBe(hex(m.root()));

    const raw = new Database(path);
    raw.prepare('UPDATE kv SET value = ? WHERE key = ?').run(Buffer.from([9]), 't/r/031000');
    raw.close();
    const damaged = new SqliteStore(path);
    expect(() => [...damaged.loadAll({ thread: true })]).toThrow(/value of "t\/r\/031000" .* does not match its Merkle leaf/);
    expect(() => [...damaged.loadAll()]).toThrow(/value of "t\/r\/031000" .* does not match its Merkle leaf/);
    damaged.close();
  });

  it('merging in slices (resumed across commits, reopens and whole-block checkpoints) leaves what a whole merge leaves (model check)', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `t/s/${String(i).padStart(2, '0')}`);
    const op = fc.oneof(
      // a block: upserts and deletes over a small key space, so later blocks overwrite earlier ones
      fc.record({ commit: fc.array(fc.tuple(fc.integer({ min: 0, max: keys.length - 1 }), fc.option(fc.uint8Array({ maxLength: 6 }), { nil: null })), { minLength: 1, maxLength: 30 }) }),
      fc.record({ slice: fc.integer({ min: 1, max: 25 }) }),
      fc.constant({ reopen: true as const }),
      fc.constant({ whole: true as const }),
    );
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const path = join(tmp, `slices-${run++}.db`);
        let db = new SqliteStore(path);
        const model = new Map<string, string>();
        let height = 0n;
        try {
          for (const o of ops) {
            if ('commit' in o) {
              const changes = new Map<string, Uint8Array | null>();
              for (const [k, x] of o.commit) changes.set(keys[k]!, x);
              const sorted = [...changes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
              for (const [k, x] of sorted) if (x === null) model.delete(k); else model.set(k, hex(x));
              db.commit({ height: ++height, appHash: new Uint8Array(32), changes: sorted.map(([k, x]) => [k, x, x === null ? null : leafHash(k, x)]) });
            } else if ('slice' in o) {
              const before = db.pendingChangeSets;
              const r = db.checkpointSlice(o.slice);
              expect(r.rows).toBeLessThanOrEqual(o.slice);
              expect(db.pendingChangeSets).toBe(before - r.blocks);
              expect(r.more).toBe(db.pendingChangeSets > 0);
            } else if ('reopen' in o) {
              db.close(); // a slice partway through a change set is forgotten: the next starts it over
              db = new SqliteStore(path);
            } else db.checkpoint();
            // what a restart would load is the model at every step, merged or not
            expect(new Map([...db.loadAll()].map((r) => [r.key, hex(r.value)]))).toEqual(model);
          }
          while (db.checkpointSlice(7).more);
          expect(db.pendingChangeSets).toBe(0);
          db.close();
          const raw = new Database(path, { readonly: true });
          const kv = raw.prepare('SELECT key, value FROM kv ORDER BY key').all() as Array<{ key: string; value: Buffer }>;
          const logged = (raw.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
          raw.close();
          expect(logged).toBe(0);
          expect(new Map(kv.map((r) => [r.key, hex(r.value)]))).toEqual(model);
        } finally {
          rmSync(path, { force: true });
          rmSync(`${path}-wal`, { force: true });
          rmSync(`${path}-shm`, { force: true });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('App.open reports its load progress every 65,536 entries, then once when the root is verified', () => {
    const path = join(tmp, 'progress.db');
    const db = new SqliteStore(path);
    const entries: Array<[string, Uint8Array]> = Array.from({ length: 140_000 }, (_, i) => [`t/p/${String(i).padStart(6, '0')}`, Buffer.from([i & 255])]);
    const m = treeOf(entries);
    db.commit({ height: 1n, appHash: m.root(), changes: entries.map(([k, x]) => [k, x, leafHash(k, x)]) });
    db.close();
    const seen: Array<{ entries: number; done?: true }> = [];
    const app = App.open({ dbPath: path, onLoadProgress: (p) => seen.push(p) });
    expect(seen).toEqual([{ entries: 65_536 }, { entries: 131_072 }, { entries: 140_000, done: true }]);
    expect(stateEntries(app).length).toBe(140_000);
    app.close();
  });

  describe('a bucket a user forces keys into (ground client ids) splits by sha256(key) above MAX_FLAT keys', () => {
    const target = bucketOf('bank/bal/fee-collector');
    const ground = groundKeys(target, 1_500);
    const others = sampleState(400, 11);
    const val = (k: string, r: number) => v(`${k}:${r}`);

    it('the ground keys all land in one bucket, and a proof there stays small: split nodes, flat leaves of at most MAX_FLAT', () => {
      expect(new Set(ground.map(bucketOf))).toEqual(new Set([target]));
      expect(new Set(ground).size).toBe(ground.length);
      const m = treeOf([...others, ...ground.map((k): [string, Uint8Array] => [k, val(k, 0)])]);
      const root = m.root();
      for (const k of [...ground.slice(0, 50), ...ground.slice(-5)]) {
        const p = m.prove(k);
        expect(p.inner.length).toBeGreaterThanOrEqual(1);
        expect(p.inner.length).toBeLessThanOrEqual(3);
        expect(p.entries.length).toBeLessThanOrEqual(MAX_FLAT);
        expect(verifyProof(p, val(k, 0), root)).toBe(true);
        expect(verifyProof(p, null, root)).toBe(false);
        expect(verifyProof(p, val(k, 1), root)).toBe(false);
      }
      // absent keys of the same bucket, some on the path of an empty child, some of a non-empty one
      for (const k of groundKeys(target, 40, 'absent')) {
        const p = m.prove(k);
        expect(verifyProof(p, null, root), k).toBe(true);
        expect(verifyProof(p, v('x'), root), k).toBe(false);
      }
      // a present key's proof cut back to the bucket level (no inner rows), or with a row dropped, fails
      const p = m.prove(ground[0]!);
      expect(verifyProof({ ...p, inner: [] }, val(ground[0]!, 0), root)).toBe(false);
      expect(verifyProof({ ...p, inner: p.inner.slice(1) }, val(ground[0]!, 0), root)).toBe(false);
    });

    it('its root depends only on the key set: batches in random order, growing past and shrinking below the threshold, a bulk load', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
          const rng = new Rng(seed);
          const m = new MerkleIndex();
          const live = new Map<string, Uint8Array>(others.slice(0, 50));
          m.update([...live.entries()]);
          const check = () => {
            const sorted = [...live.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
            const bulk = new MerkleIndex();
            for (const [k, x] of sorted) bulk.loadLeaf(k, leafHash(k, x));
            bulk.rebuild();
            expect(hex(m.root())).toBe(hex(bulk.root()));
            expect(hex(m.root())).toBe(hex(treeOf([...live.entries()].reverse()).root()));
          };
          // grow in random batches (some updating values), then shrink in random batches to a few keys
          const order = [...ground.slice(0, 300 + rng.range(0, 900))].sort(() => rng.range(0, 2) - 0.5);
          for (let i = 0; i < order.length; ) {
            const n = rng.range(1, 200);
            const batch: Array<[string, Uint8Array | null]> = order.slice(i, i + n).map((k) => [k, val(k, rng.range(0, 3))]);
            i += n;
            for (const [k, x] of batch) live.set(k, x!);
            m.update(batch);
          }
          check();
          const keys = [...live.keys()].filter((k) => k.startsWith('clob/'));
          for (let i = 0; i < keys.length - 3; ) {
            const n = rng.range(1, 250);
            const batch: Array<[string, Uint8Array | null]> = keys.slice(i, Math.min(i + n, keys.length - 3)).map((k) => [k, null]);
            i += n;
            for (const [k] of batch) live.delete(k);
            m.update(batch);
            if (rng.range(0, 3) === 0) check();
          }
          check();
        }),
        { numRuns: 8, seed: 5 },
      );
    });
  });

  it('a bulk load may interleave appends and out-of-order inserts, after updates, and still gives the same root', () => {
    // keys that share buckets (order within a bucket is what a load can get wrong), and some that do not
    const pool = [...sameBucketKeys('bank/bal/a', 12), ...sameBucketKeys('bank/bal/b', 12), ...Array.from({ length: 24 }, (_, i) => `t/k/${i}`)];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: pool.length - 1 }), fc.uint8Array({ maxLength: 20 })), { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 300 }), (xs, cut) => {
        const entries = new Map(xs.map(([k, x]): [string, Uint8Array] => [pool[k]!, x]));
        const sorted = [...entries.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
        // some keys (high ones among them) set by an update first; then most of the rest loaded in key
        // order (appends), the others in reverse (inserts between them, appends past the end), rebuilt
        const updated = sorted.filter((_, i) => i % 5 === cut % 5);
        const rest = sorted.filter((_, i) => i % 5 !== cut % 5);
        const first = rest.filter((_, i) => i % 3 !== cut % 3);
        const later = rest.filter((_, i) => i % 3 === cut % 3).reverse();
        const loaded = new MerkleIndex();
        loaded.update(updated);
        for (const [k, x] of [...first, ...later]) loaded.loadLeaf(k, leafHash(k, x));
        loaded.rebuild();
        expect(hex(loaded.root())).toBe(hex(treeOf(sorted).root()));
      }),
      { numRuns: 60 },
    );
  });

  it('Commit only appends to the WAL; checkpoint() copies it into the database file, or Commit once the WAL passes its bound', () => {
    const bigChanges = (h: number): Array<[string, Uint8Array, Uint8Array]> =>
      Array.from({ length: 400 }, (_, i): [string, Uint8Array, Uint8Array] => {
        const k = `t/big/${String(i).padStart(4, '0')}`;
        const x = Buffer.alloc(2500, h);
        return [k, x, leafHash(k, x)];
      });
    const fileSize = (p: string) => statSync(p).size;
    // 6 blocks of ~1 MB: past sqlite's own auto-checkpoint threshold (1,000 pages ≈ 4 MB), which is off here
    const path = join(tmp, 'wal.db');
    const db = new SqliteStore(path);
    const empty = fileSize(path);
    for (let h = 1; h <= 6; h++) db.commit({ height: BigInt(h), appHash: new Uint8Array(32), changes: bigChanges(h) });
    expect(fileSize(path)).toBe(empty); // every page is still in the WAL
    expect(fileSize(`${path}-wal`)).toBeGreaterThan(5 * 2 ** 20);
    db.checkpoint();
    expect(fileSize(path)).toBeGreaterThan(2 ** 20); // merged into kv and copied into the file
    db.close();
    const again = new SqliteStore(path);
    expect(again.lastCommitted().height).toBe(6n);
    expect([...again.loadAll()].length).toBe(400);
    again.close();

    // a driver that never checkpoints: Commit copies the WAL itself once it holds more than maxWalBytes
    const path2 = join(tmp, 'wal-bound.db');
    const db2 = new SqliteStore(path2, { maxWalBytes: 3 * 2 ** 20 });
    const empty2 = fileSize(path2);
    for (let h = 1; h <= 3; h++) db2.commit({ height: BigInt(h), appHash: new Uint8Array(32), changes: bigChanges(h) });
    expect(fileSize(path2)).toBe(empty2);
    db2.commit({ height: 4n, appHash: new Uint8Array(32), changes: bigChanges(4) });
    expect(fileSize(path2)).toBeGreaterThan(3 * 2 ** 20);
    expect(db2.pendingChangeSets).toBe(4); // the log itself is not merged: only the WAL was copied
    db2.close();
  });

  it('merging in slices ends even when a height was logged twice (one row, counted twice)', () => {
    const path = join(tmp, 'twice.db');
    const db = new SqliteStore(path);
    const set = (x: number): Array<[string, Uint8Array, Uint8Array]> => [['t/q/a', Buffer.from([x]), leafHash('t/q/a', Buffer.from([x]))]];
    db.commit({ height: 1n, appHash: new Uint8Array(32), changes: set(1) });
    db.commit({ height: 1n, appHash: new Uint8Array(32), changes: set(2) }); // replaces the row
    expect(db.pendingChangeSets).toBe(2);
    let slices = 0;
    while (db.checkpointSlice(10).more && slices < 10) slices++;
    expect(slices).toBeLessThan(10);
    expect(db.pendingChangeSets).toBe(0);
    expect([...db.loadAll()].map((r) => hex(r.value))).toEqual([hex(Buffer.from([2]))]);
    db.close();
  });

  it('with walThread the WAL is copied into the database file by the copy thread, not by the caller', async () => {
    const bigChanges = (h: number): Array<[string, Uint8Array, Uint8Array]> =>
      Array.from({ length: 400 }, (_, i) => {
        const k = `t/big/${String(i).padStart(4, '0')}`;
        const x = Buffer.alloc(2500, h);
        return [k, x, leafHash(k, x)];
      });
    const path = join(tmp, 'wal-thread.db');
    const db = new SqliteStore(path, { walThread: true });
    const empty = statSync(path).size;
    for (let h = 1; h <= 3; h++) db.commit({ height: BigInt(h), appHash: new Uint8Array(32), changes: bigChanges(h) });
    while (db.checkpointSlice(150).more);
    expect(db.pendingChangeSets).toBe(0);
    // the last slice only asked for the copy; the file grows once the copy thread has done it
    for (let i = 0; i < 200 && db.walCopiesDone() === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(db.walCopiesDone()).toBeGreaterThanOrEqual(1);
    expect(statSync(path).size).toBeGreaterThan(empty + 2 ** 20);
    db.commit({ height: 4n, appHash: new Uint8Array(32), changes: bigChanges(4) }); // writing goes on after a copy
    db.close(); // waits for the copy thread to close its connection
    const again = new SqliteStore(path);
    expect(again.lastCommitted().height).toBe(4n);
    expect([...again.loadAll()].map((r) => r.value[0])).toEqual(new Array(400).fill(4));
    again.close();
  });

  it('commits of mixed upserts and deletes (runs longer and shorter than a batch) reload exactly (model check)', () => {
    const path = join(tmp, 'mixed.db');
    const db = new SqliteStore(path);
    const rng = new Rng(11);
    const model = new Map<string, string>();
    for (let h = 1; h <= 12; h++) {
      const changes = new Map<string, Uint8Array | null>();
      const n = rng.pick([0, 1, 63, 64, 65, 130, 300]);
      for (let i = 0; i < n; i++) {
        const k = `t/x/${rng.int(400).toString().padStart(3, '0')}`;
        changes.set(k, rng.chance(0.3) ? null : rng.bytes(rng.range(0, 12)));
      }
      const sorted = [...changes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      db.commit({ height: BigInt(h), appHash: new Uint8Array(32), changes: sorted.map(([k, x]) => [k, x, x === null ? null : leafHash(k, x)]) });
      for (const [k, x] of sorted) {
        if (x === null) model.delete(k);
        else model.set(k, hex(x));
      }
      if (h % 3 === 0) db.checkpoint(); // some change sets merged, some still in the log
    }
    db.close();
    const again = new SqliteStore(path);
    expect([...again.loadAll()].map((r) => [r.key, hex(r.value)])).toEqual([...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    expect(again.lastCommitted().height).toBe(12n);
    again.close();
  });

  it('App.open reloads the committed state of an App: same height, hash, state, and it continues identically', async () => {
    const dbPath = join(tmp, 'app.db');
    const disk = TestChain.create({ dbPath, accounts: 4 });
    const mem = TestChain.create({ accounts: 4 });
    const blocks: Uint8Array[][] = [];
    for (let h = 0; h < 6; h++) {
      const k = disk.keys[h % 4]!;
      const txs = h === 0 ? [] : [await disk.send(k, disk.keys[(h + 1) % 4]!.address, BigInt(100 + h), { sequence: disk.nextSequence(k.address) })];
      blocks.push(txs);
      disk.block(txs);
      mem.block(txs);
    }
    const before = { h: disk.app.height, hash: hex(disk.app.appHash), state: stateEntries(disk.app) };
    disk.app.close();
    const reopened = App.open({ dbPath });
    expect(reopened.height).toBe(before.h);
    expect(hex(reopened.appHash)).toBe(before.hash);
    expect(reopened.info().lastBlockHeight).toBe(before.h);
    expect(hex(reopened.info().lastBlockAppHash)).toBe(before.hash);
    expect(reopened.chainId).toBe(mem.app.chainId);
    expect(stateEntries(reopened)).toEqual(before.state);
    expect(stateEntries(reopened)).toEqual(stateEntries(mem.app));
    // Block log: every block's txs and hash are on disk.
    const log = [...reopened.blockStore!.blocks(1n)];
    expect(log.map((b) => b.height)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    disk.reopen(reopened);
    const k = disk.keys[0]!;
    const t = await disk.send(k, disk.keys[1]!.address, 1n, { sequence: disk.nextSequence(k.address) });
    disk.block([t]);
    mem.block([t]);
    expect(hex(disk.app.appHash)).toBe(hex(mem.app.appHash));
    reopened.close();
  });

  it('a corrupted value on disk is detected at open (the state no longer hashes to the committed app hash)', async () => {
    const dbPath = join(tmp, 'corrupt.db');
    const c = TestChain.create({ dbPath, accounts: 2 });
    c.block();
    c.block([await c.send(c.keys[0]!, c.keys[1]!.address, 5n)]);
    expect(c.app.checkpoint()).toBe(2); // merge the logged change sets into kv, as the node does between blocks
    c.app.close();
    const raw = new Database(dbPath);
    expect(raw.prepare('UPDATE kv SET value = ? WHERE key = ?').run(Buffer.from('999999999999999'), `bank/bal/${c.keys[1]!.address}`).changes).toBe(1);
    raw.close();
    expect(() => App.open({ dbPath })).toThrow(/store is corrupt/);
  });

  it('a row rewritten consistently on disk (value and its leaf) is detected by the app hash check', async () => {
    const dbPath = join(tmp, 'rewritten.db');
    const c = TestChain.create({ dbPath, accounts: 2 });
    c.block();
    c.block([await c.send(c.keys[0]!, c.keys[1]!.address, 5n)]);
    c.app.checkpoint();
    c.app.close();
    const key = `bank/bal/${c.keys[1]!.address}`;
    const forged = Buffer.from('999999999999999');
    const raw = new Database(dbPath);
    raw.prepare('UPDATE kv SET value = ?, leaf = ? WHERE key = ?').run(forged, leafHash(key, forged), key);
    raw.close();
    expect(() => App.open({ dbPath })).toThrow(/store is corrupt: state on disk hashes to/);
  });

  it('a change set still in the commit log is covered too: a damaged value there is detected at open', async () => {
    const dbPath = join(tmp, 'corrupt-log.db');
    const c = TestChain.create({ dbPath, accounts: 2 });
    c.block();
    c.block([await c.send(c.keys[0]!, c.keys[1]!.address, 5n)]);
    c.app.close(); // no checkpoint: block 2's changes are only in the log
    const raw = new Database(dbPath);
    const row = raw.prepare('SELECT data FROM changes WHERE height = 2').get() as { data: Buffer };
    const key = Buffer.from(`bank/bal/${c.keys[1]!.address}`, 'latin1');
    const at = row.data.indexOf(key) + key.length + 1 + 4; // the value after key, flag and length
    row.data[at] = row.data[at]! ^ 1;
    raw.prepare('UPDATE changes SET data = ? WHERE height = 2').run(row.data);
    raw.close();
    expect(() => App.open({ dbPath })).toThrow(/store is corrupt/);
  });

  it('checkpoints merge the log without changing what loads: same state and app hash before and after', async () => {
    const dbPath = join(tmp, 'checkpoint.db');
    const c = TestChain.create({ dbPath, accounts: 3 });
    c.block();
    for (let i = 0; i < 5; i++) c.block([await c.send(c.keys[i % 3]!, c.keys[(i + 1) % 3]!.address, BigInt(i + 1))]);
    const hash = Buffer.from(c.app.appHash).toString('hex');
    c.app.close();
    const a = App.open({ dbPath });
    const before = [...a.blockStore!.loadAll()].map((r) => [r.key, r.value.toString('hex')]);
    expect(a.checkpoint(2)).toBe(2);
    expect(a.checkpoint()).toBe(4);
    expect(a.checkpoint()).toBe(0);
    const after = [...a.blockStore!.loadAll()].map((r) => [r.key, r.value.toString('hex')]);
    expect(after).toEqual(before);
    a.close();
    const b = App.open({ dbPath });
    expect(Buffer.from(b.appHash).toString('hex')).toBe(hash);
    b.close();
  });
});
