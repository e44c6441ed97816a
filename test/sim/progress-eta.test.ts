/**
 * The progress line's arithmetic (sim/progress.ts): what a user watching a
 * long sweep reads to decide whether to wait. The fixtures use round numbers
 * (1 block/s) so every expected figure can be checked by hand.
 */
import { describe, expect, it } from 'vitest';
import { formatProgress, ProgressBar } from '../../sim/progress.js';
import type { Progress } from '../../sim/runner.js';

/** A run at exactly 1 block per second: `block` blocks done in `block` seconds. */
function atOneBlockPerSecond(block: number, total: number): Progress {
  return { block, total, sblock: block, liquidations: 0, badDebtUsd: 0, insuranceFundUsd: 0, elapsedMs: block * 1000 };
}

/** A stream that records what is written, as a terminal or not. */
function fakeStream(isTTY: boolean, columns = 120): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, columns, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress line: ETA', () => {
  it('is the blocks left divided by the rate: 2 blocks left at 1 block/s is 2 s', () => {
    expect(formatProgress(atOneBlockPerSecond(1, 3))).toContain('ETA 0:02');
  });

  it('past an hour shows h:mm:ss with the minutes wrapped (3,725 s = 1:02:05)', () => {
    expect(formatProgress(atOneBlockPerSecond(1, 1 + 3725))).toContain('ETA 1:02:05');
  });

  it('is unknown (--:--), not NaN, before any time has passed', () => {
    const line = formatProgress({ ...atOneBlockPerSecond(0, 100), elapsedMs: 0 });
    expect(line).toContain('ETA --:--');
    expect(line).not.toContain('NaN');
  });
});

describe('progress line: bar', () => {
  const cells = (line: string) => /\[(█*)(░*)\]/.exec(line)!.slice(1).map((s) => s.length);

  it('fills a cell only once its whole share is done (1 of 5 blocks = 4.8 of 24 cells → 4)', () => {
    expect(cells(formatProgress(atOneBlockPerSecond(1, 5)))).toEqual([4, 20]);
  });

  it('is full only when the run is: 999 of 1,000 blocks leaves the last cell empty', () => {
    expect(cells(formatProgress(atOneBlockPerSecond(999, 1000)))).toEqual([23, 1]);
    expect(cells(formatProgress(atOneBlockPerSecond(1000, 1000)))).toEqual([24, 0]);
  });
});

describe('ProgressBar on a terminal', () => {
  it('never writes into the last column (a line that fills the width wraps on many terminals)', () => {
    const { stream, written } = fakeStream(true, 40);
    new ProgressBar(stream, true).update(atOneBlockPerSecond(1, 3));
    // drawn as "\r<line>\x1b[K": the visible part is what lies between
    const drawn = written[0]!;
    expect(drawn.startsWith('\r') && drawn.endsWith('\u001b[K')).toBe(true);
    const visible = drawn.slice(1, -'\u001b[K'.length);
    expect(visible.length).toBe(39);
  });

  it('done() ends the line it drew, and writes nothing when it drew nothing (a sweep calls done() after every run)', () => {
    const { stream, written } = fakeStream(true);
    const bar = new ProgressBar(stream, true);
    bar.done();
    expect(written).toEqual([]);
    bar.update(atOneBlockPerSecond(1, 3));
    bar.done();
    bar.done();
    expect(written.filter((s) => s === '\n')).toHaveLength(1);
  });
});
