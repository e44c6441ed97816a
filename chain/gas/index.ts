import { ErrOutOfGas } from '../errors/tx.js';
import type { KVStore, Value } from '../store/kv.js';

/** Gas costs of store access (the Cosmos SDK's KVGasConfig values). */
export const KV_GAS = {
  readFlat: 1000,
  readPerByte: 3,
  writeFlat: 2000,
  writePerByte: 30,
  delete: 1000,
  iterNextFlat: 30,
} as const;

/**
 * Counts gas against a limit. Gas is a plain number: limits are capped by the
 * block gas limit, far below 2^53.
 */
export class GasMeter {
  private used = 0;
  constructor(readonly limit: number) {}

  consume(amount: number, what: string): void {
    this.used += amount;
    if (this.used > this.limit) {
      throw ErrOutOfGas(`${what} needs ${amount}, limit ${this.limit}, used ${this.used}`);
    }
  }

  get consumed(): number {
    return Math.min(this.used, this.limit);
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }
}

/** A meter that never runs out (block-level work: begin/end block, genesis). */
export class InfiniteGasMeter extends GasMeter {
  constructor() {
    super(Number.MAX_SAFE_INTEGER);
  }
}

/** A store wrapper that charges every access to a meter. */
export class GasKV implements KVStore {
  constructor(
    private readonly inner: KVStore,
    private readonly meter: GasMeter,
  ) {}

  get(key: string): Value | undefined {
    const v = this.inner.get(key);
    this.meter.consume(KV_GAS.readFlat + KV_GAS.readPerByte * (key.length + (v?.length ?? 0)), 'read');
    return v;
  }

  set(key: string, value: Value): void {
    this.meter.consume(KV_GAS.writeFlat + KV_GAS.writePerByte * (key.length + value.length), 'write');
    this.inner.set(key, value);
  }

  delete(key: string): void {
    this.meter.consume(KV_GAS.delete, 'delete');
    this.inner.delete(key);
  }

  scanTable(table: string): Array<[string, Value]> {
    const rows = this.inner.scanTable(table);
    let bytes = 0;
    for (const [k, v] of rows) bytes += k.length + v.length;
    this.meter.consume(KV_GAS.readFlat + rows.length * KV_GAS.iterNextFlat + KV_GAS.readPerByte * bytes, 'scan');
    return rows;
  }
}
