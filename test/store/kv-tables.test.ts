/**
 * Table rules of the key/value layer (chain/store/kv.ts, committed.ts): a key names its table by its first
 * two segments, both non-empty ("<module>/<table>/<rest>"), and CommittedState lists its entries in key
 * order whatever order its tables were created in (the genesis export and the verifier's replay read it).
 */
import { describe, expect, it } from 'vitest';
import { tableOf } from '../../chain/store/kv.js';
import { CommittedState } from '../../chain/store/committed.js';

const v = (s: string) => Buffer.from(s);

describe('tableOf', () => {
  it('names the table of a well-formed key', () => {
    expect(tableOf('bank/bal/perp1xyz')).toBe('bank/bal/');
    expect(tableOf('a/b/')).toBe('a/b/');
    expect(tableOf('a/b/c/d')).toBe('a/b/');
  });

  it('refuses a key with an empty module or table segment, or fewer than two slashes', () => {
    for (const bad of ['bank//x', '/bal/x', '//x', 'bank/bal', 'bank', '']) expect(() => tableOf(bad), bad).toThrow(/must look like/);
  });
});

describe('CommittedState.entries', () => {
  it('yields every entry in key order, across tables created in any order, by apply and by load', () => {
    const s = new CommittedState();
    // tables created z, m, a: the order of creation is not the order of keys
    s.apply([['z/t/1', v('z1')]]);
    s.apply([['m/t/2', v('m2')]]);
    s.apply([['a/t/0', v('a0')], ['a/t/1', v('a1')]]);
    expect([...s.entries()].map(([k]) => k)).toEqual(['a/t/0', 'a/t/1', 'm/t/2', 'z/t/1']);
    expect(s.tableNames()).toEqual(['a/t/', 'm/t/', 'z/t/']);
    const loaded = new CommittedState();
    for (const [k, x] of [...s.entries()]) loaded.load(k, x);
    expect([...loaded.entries()].map(([k]) => k)).toEqual(['a/t/0', 'a/t/1', 'm/t/2', 'z/t/1']);
    expect(Buffer.from(loaded.get('m/t/2')!).toString()).toBe('m2');
    expect(loaded.size).toBe(4);
  });
});
