import { describe, expect, it } from 'vitest';
import { GasKV, GasMeter } from '../../chain/gas/index.js';
import { Branch } from '../../chain/store/branch.js';
import { ChainError } from '../../chain/errors/index.js';

/**
 * The gas meter and the per-access store costs (the Cosmos SDK's KVGasConfig: read 1000 + 3/byte of key and
 * value, write 2000 + 30/byte of key and value, delete 1000, iteration 30 per entry). Gas used is part of every
 * tx result, so of the app hash: a cost that silently changed (a per-byte term dropped, a flat charge lost)
 * would fork a node running the old code, and nothing else in the suite pins these numbers.
 */
const EMPTY = { get: () => undefined, scanTable: () => [] };

function metered(limit = 1_000_000_000): { kv: GasKV; meter: GasMeter; inner: Branch } {
  const meter = new GasMeter(limit);
  const inner = new Branch(EMPTY);
  return { kv: new GasKV(inner, meter), meter, inner };
}

function outOfGas(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (e instanceof ChainError && e.codespace === 'tx' && e.code === 17) return true;
    throw e;
  }
}

describe('GasMeter', () => {
  it('using exactly the limit is fine; one unit more is out of gas (tx/17)', () => {
    const m = new GasMeter(100);
    m.consume(60, 'a');
    m.consume(40, 'b'); // now exactly at the limit
    expect([m.consumed, m.remaining]).toEqual([100, 0]);
    expect(outOfGas(() => m.consume(1, 'c'))).toBe(true);
  });

  it('reports at most the limit as consumed after running out (gas_used never exceeds gas_wanted)', () => {
    const m = new GasMeter(100);
    m.consume(90, 'a');
    expect(m.remaining).toBe(10);
    expect(outOfGas(() => m.consume(25, 'b'))).toBe(true);
    expect([m.consumed, m.remaining]).toEqual([100, 0]);
  });
});

describe('GasKV charges', () => {
  const key = 'bank/bal/perp1abc'; // 17 characters
  const value = new Uint8Array(10);

  it('write: 2000 flat + 30 per byte of key and value', () => {
    const { kv, meter } = metered();
    kv.set(key, value);
    expect(meter.consumed).toBe(2000 + 30 * (17 + 10));
  });

  it('read: 1000 flat + 3 per byte of key and of the value found (only the key when absent)', () => {
    const { kv, meter, inner } = metered();
    kv.get(key);
    expect(meter.consumed).toBe(1000 + 3 * 17);
    inner.set(key, value); // unmetered
    kv.get(key);
    expect(meter.consumed).toBe(1000 + 3 * 17 + 1000 + 3 * (17 + 10));
  });

  it('delete: 1000 flat', () => {
    const { kv, meter, inner } = metered();
    inner.set(key, value);
    kv.delete(key);
    expect(meter.consumed).toBe(1000);
    expect(inner.get(key)).toBeUndefined();
  });

  it('scan: 1000 flat + 30 per entry + 3 per byte of every key and value', () => {
    const { kv, meter, inner } = metered();
    inner.set('bank/bal/a', new Uint8Array(4)); // 10 + 4 bytes
    inner.set('bank/bal/bb', new Uint8Array(6)); // 11 + 6 bytes
    inner.set('auth/acc/a', new Uint8Array(50)); // another table: not scanned, not charged
    expect(kv.scanTable('bank/bal/')).toHaveLength(2);
    expect(meter.consumed).toBe(1000 + 2 * 30 + 3 * (14 + 17));
  });

  it('a write that does not fit is not performed', () => {
    const { kv, inner } = metered(2000 + 30 * 27 - 1);
    expect(outOfGas(() => kv.set(key, value))).toBe(true);
    expect(inner.get(key)).toBeUndefined();
  });
});
