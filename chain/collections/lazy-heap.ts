/**
 * A binary min-heap of (key, id) pairs with lazy deletion: entries are never
 * removed when an order goes away or a tx is rolled back; whoever pops an
 * entry checks it against the store and skips it if it no longer applies.
 * That makes the heap safe under tx and block rollback without an undo log:
 * what it yields is decided by the store, which is exactly rolled back.
 */
export class LazyHeap {
  private keys: bigint[] = [];
  private ids: bigint[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: bigint, id: bigint): void {
    this.keys.push(key);
    this.ids.push(id);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  peekKey(): bigint | undefined {
    return this.keys[0];
  }

  pop(): { key: bigint; id: bigint } | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const out = { key: this.keys[0]!, id: this.ids[0]! };
    const lastK = this.keys.pop()!;
    const lastI = this.ids.pop()!;
    if (n > 1) {
      this.keys[0] = lastK;
      this.ids[0] = lastI;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n - 1 && this.less(l, m)) m = l;
        if (r < n - 1 && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return out;
  }

  clear(): void {
    this.keys = [];
    this.ids = [];
  }

  private less(a: number, b: number): boolean {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    return ka < kb || (ka === kb && this.ids[a]! < this.ids[b]!);
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
    [this.ids[a], this.ids[b]] = [this.ids[b]!, this.ids[a]!];
  }
}
