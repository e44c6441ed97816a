import type { GasMeter } from './gas/index.js';
import type { KVStore } from './store/kv.js';
import type { AbciEvent } from './types.js';

export type ExecMode = 'genesis' | 'deliver' | 'check' | 'recheck' | 'query' | 'begin_block' | 'end_block';

/** Attribute values of an event: anything with a canonical string form. */
export type EventFields = Record<string, string | number | bigint | boolean>;

/**
 * Undo log for in-memory structures that mirror the store (order books,
 * indexes). A failed tx runs its undo entries newest first; a successful tx
 * appends them to the block's journal so an abandoned block can be unwound.
 */
export class Journal {
  private entries: Array<() => void> = [];

  onRevert(fn: () => void): void {
    this.entries.push(fn);
  }

  revert(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) this.entries[i]!();
    this.entries = [];
  }

  mergeInto(parent: Journal): void {
    for (const e of this.entries) parent.entries.push(e);
    this.entries = [];
  }

  clear(): void {
    this.entries = [];
  }

  get length(): number {
    return this.entries.length;
  }
}

const NONE: readonly string[] = [];

export class EventSink {
  readonly events: AbciEvent[] = [];

  emit(type: string, fields: EventFields, indexed: readonly string[] = NONE): void {
    // a plain loop: every tx emits several events, and this runs without a closure or a mapped copy
    const attributes: AbciEvent['attributes'] = [];
    for (const key in fields) attributes.push({ key, value: String(fields[key]), index: indexed.includes(key) });
    this.events.push({ type, attributes });
  }

  append(events: readonly AbciEvent[]): void {
    for (const e of events) this.events.push(e);
  }
}

/**
 * Everything a keeper may use during a state transition. Nothing else: no
 * clock (use timeNs), no randomness, no environment. Created by the App per
 * tx and per block phase.
 */
export interface Ctx {
  readonly store: KVStore;
  readonly mode: ExecMode;
  readonly chainId: string;
  readonly height: bigint;
  /** Block time, nanoseconds since the Unix epoch (from the block header). */
  readonly timeNs: bigint;
  /** Block time in whole seconds (floor of timeNs). */
  readonly timeSec: bigint;
  readonly proposer: Uint8Array;
  readonly gas: GasMeter;
  readonly events: EventSink;
  readonly journal: Journal;
  /**
   * CheckTx prechecks only: what the signer's pending txs and this tx's earlier messages will add to
   * `address`'s bank balance (withdrawals they can make: positive) or take from it (sends, deposits:
   * negative), beyond the check state, which holds their fees but not their messages' effects.
   */
  readonly pendingBank?: (address: string) => bigint;
}
