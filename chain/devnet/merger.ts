import type { App } from '../app.js';

/** Rows merged per event-loop turn: a few ms at small states, tens of ms at 1,000,000 accounts. */
export const MERGE_SLICE_ROWS = 2_000;

/**
 * Merges the store's change log into its main table after each Commit, one
 * slice per event-loop turn (App.checkpointSlice), so the API, CheckTx and
 * CometBFT's requests are served between slices instead of waiting for a
 * whole block's merge (a few hundred ms for a 10,000-key block at 1,000,000
 * accounts). A failure is logged and retried after the next block: the log
 * keeps the data until it is merged.
 */
export class BackgroundMerger {
  private running: Promise<void> | undefined;
  private stopped = false;
  private again = false;

  constructor(
    private readonly app: Pick<App, 'checkpointSlice'>,
    private readonly log: (line: string) => void,
    private readonly sliceRows = MERGE_SLICE_ROWS,
  ) {}

  /** Merge what is logged (call after each Commit); a run already going picks up the new change set. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the current run (if any) has stopped. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more slices after the current one (before the store is closed). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async run(): Promise<void> {
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      try {
        if (!this.app.checkpointSlice(this.sliceRows).more) return;
      } catch (e) {
        this.log(`checkpoint failed (the log keeps the data; retried after the next block): ${(e as Error).message}`);
        return;
      }
    }
  }
}
