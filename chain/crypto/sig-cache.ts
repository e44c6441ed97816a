/**
 * Remembers signatures already verified (by CheckTx or a parallel prefetch)
 * so FinalizeBlock does not verify them again. An entry binds everything the
 * signature covers besides the tx bytes themselves: the tx hash (body, auth
 * info and signature) and the account number the sign bytes carried.
 *
 * The public key needs no place in an entry: it is either carried by the tx
 * (so covered by its hash) or the account's registered key, which never
 * changes once set (and the account number names the account).
 *
 * Entries are keyed by the tx hash string itself, which the App already holds
 * (and V8 has already hashed) for every tx; building a combined string key per
 * lookup cost a concatenation and a fresh hash each time. A tx hash seen with
 * a second account number (only possible if an account number were reused)
 * replaces the first: a later lookup for the first misses and verifies again.
 *
 * Speed only: a hit and a miss give the same answer and charge the same gas,
 * so eviction order (which is local to a node) can never affect consensus.
 */
export class SigCache {
  private readonly entries = new Map<string, bigint>();

  constructor(private readonly capacity = 200_000) {}

  has(txHash: string, accountNumber: bigint): boolean {
    return this.entries.get(txHash) === accountNumber;
  }

  add(txHash: string, accountNumber: bigint): void {
    if (this.entries.size >= this.capacity && !this.entries.has(txHash)) {
      // Evict the oldest tenth (a Map iterates in insertion order).
      let n = Math.ceil(this.capacity / 10);
      for (const k of this.entries.keys()) {
        this.entries.delete(k);
        if (--n === 0) break;
      }
    }
    this.entries.set(txHash, accountNumber);
  }

  get size(): number {
    return this.entries.size;
  }
}
