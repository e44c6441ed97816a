/**
 * What a node start opened, closed again when the start fails, last opened first, so that a retry in the
 * same process finds the home, the ports and the store free. Used by `perpchain start` (DevnetNode) and
 * `perpchain abci`.
 */
export class Opened {
  private readonly closers: Array<() => unknown> = [];

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Close everything (errors swallowed: the start's own error is the one to report). */
  async closeAll(): Promise<void> {
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch {
        /* the start's own error is the one to report */
      }
    }
    this.closers.length = 0;
  }
}
