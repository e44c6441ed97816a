import type { CollateralChange } from './module.js';

/**
 * Subaccount collateral as CheckTx and the proposer see it without running messages, for capping what a
 * withdrawal can add to a balance: the decreases of txs already admitted (withdrawals, transfers out) carry
 * over to later txs; within the tx being looked at every change counts (a deposit earlier in the tx backs a
 * withdrawal after it). Increases from other pending txs are not counted: such a tx may still fail.
 */
export class PendingCollateral {
  private readonly decreases = new Map<string, bigint>();
  private tx = new Map<string, bigint>();

  readonly change: CollateralChange = (owner, number) => {
    const k = `${owner}/${number}`;
    return (this.decreases.get(k) ?? 0n) + (this.tx.get(k) ?? 0n);
  };

  /** Start looking at a tx: forget the changes of one that was not admitted. */
  beginTx(): void {
    if (this.tx.size) this.tx = new Map();
  }

  add(flows: ReadonlyArray<{ owner: string; number: number; amount: bigint }> | undefined): void {
    if (!flows) return;
    for (const f of flows) {
      const k = `${f.owner}/${f.number}`;
      this.tx.set(k, (this.tx.get(k) ?? 0n) + f.amount);
    }
  }

  /** The tx was admitted: its net decreases count for the txs after it. */
  admit(): void {
    for (const [k, v] of this.tx) if (v < 0n) this.decreases.set(k, (this.decreases.get(k) ?? 0n) + v);
    this.beginTx();
  }
}
