/**
 * Local account-sequence tracking: many txs per block without "incorrect
 * account sequence" errors.
 *
 * Signing and CheckTx run one tx at a time per account (a lock), so the
 * sequence handed out is always the next one the node's check state expects:
 * a tx that passes CheckTx consumed it, a tx CheckTx refused did not (the
 * node's check state is unchanged) and the number is reused. When the node
 * says the sequence is wrong — codespace "tx", code 12, log "expected X, got
 * Y" — the tracker adopts X and the caller re-signs; no query needed.
 * The lock covers one CheckTx round trip, not block inclusion, so a trader
 * can have any number of txs in the same block.
 */

export interface SequenceMismatch {
  expected: bigint;
  got: bigint;
}

/** "expected X, got Y" of a tx/12 error, or undefined if the result is not a sequence mismatch. */
export function parseSequenceMismatch(r: { code: number; codespace: string; log: string }): SequenceMismatch | undefined {
  if (r.codespace !== 'tx' || r.code !== 12) return undefined;
  const m = /expected (\d+), got (\d+)/.exec(r.log);
  if (!m) return undefined;
  return { expected: BigInt(m[1]!), got: BigInt(m[2]!) };
}

export class SequenceTracker {
  accountNumber: bigint | undefined;
  private nextSeq: bigint | undefined;
  private tail: Promise<void> = Promise.resolve();
  /** Mismatches recovered from (for monitoring). */
  mismatches = 0;

  constructor(private readonly fetchAccount: () => Promise<{ accountNumber: bigint; sequence: bigint }>) {}

  get next(): bigint | undefined {
    return this.nextSeq;
  }

  /** Re-read account number and sequence from the chain. */
  async refresh(): Promise<void> {
    const a = await this.fetchAccount();
    this.accountNumber = a.accountNumber;
    this.nextSeq = a.sequence;
  }

  /** The node told us the sequence it expects. */
  adopt(expected: bigint): void {
    this.mismatches++;
    this.nextSeq = expected;
  }

  /** Set the next sequence (after a tx consumed one). */
  set(next: bigint): void {
    this.nextSeq = next;
  }

  /**
   * Run `fn` with the account's signing lock held: sign, CheckTx, then
   * set(sequence + 1) when CheckTx passed. Loads account number and
   * sequence first if not known yet.
   */
  async exclusive<T>(fn: (t: { sequence: bigint; accountNumber: bigint }) => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      if (this.nextSeq === undefined || this.accountNumber === undefined) await this.refresh();
      const view = { sequence: 0n, accountNumber: 0n };
      Object.defineProperties(view, {
        sequence: { get: () => this.nextSeq!, enumerable: true },
        accountNumber: { get: () => this.accountNumber!, enumerable: true },
      });
      return await fn(view);
    } finally {
      release();
    }
  }
}
