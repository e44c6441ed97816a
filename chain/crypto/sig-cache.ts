/**
 * Remembers signatures already verified (by CheckTx or a parallel prefetch)
 * so FinalizeBlock does not verify them again. The key binds everything the
 * signature covers besides the tx bytes themselves: the tx hash (body, auth
 * info and signature) and the account number (which fixes the public key).
 *
 * Speed only: a hit and a miss give the same answer and charge the same gas,
 * so eviction order (which is local to a node) can never affect consensus.
 */
export class SigCache {
  private readonly entries = new Set<string>();

  constructor(private readonly capacity = 200_000) {}

  /**
   * The public key needs no place in the key: it is either carried by the tx
   * (so covered by its hash) or the account's registered key, which never
   * changes once set (and the account number names the account).
   */
  static key(txHash: string, accountNumber: bigint, _pubKey?: Uint8Array): string {
    return `${txHash}:${accountNumber}`;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  add(key: string): void {
    if (this.entries.size >= this.capacity) {
      // Evict the oldest tenth (Set iterates in insertion order).
      let n = Math.ceil(this.capacity / 10);
      for (const k of this.entries) {
        this.entries.delete(k);
        if (--n === 0) break;
      }
    }
    this.entries.add(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
