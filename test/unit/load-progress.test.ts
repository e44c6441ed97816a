import { describe, expect, it } from 'vitest';
import { loadProgressPrinter } from '../../chain/devnet/load-progress.js';

describe('loadProgressPrinter (what a node prints while App.open loads its state)', () => {
  it('prints nothing for a load shorter than the interval', () => {
    const lines: string[] = [];
    let t = 0;
    const p = loadProgressPrinter((l) => lines.push(l), 1000, () => t);
    t = 300;
    p({ entries: 65_536 });
    t = 900;
    p({ entries: 70_000, done: true });
    expect(lines).toEqual([]);
  });

  it('prints at most one line per interval while loading, then a closing line', () => {
    const lines: string[] = [];
    let t = 0;
    const p = loadProgressPrinter((l) => lines.push(l), 1000, () => t);
    for (let i = 1; i <= 30; i++) {
      t = i * 250; // a batch every 250 ms
      p({ entries: i * 65_536 });
    }
    t = 7_600;
    p({ entries: 2_000_010, done: true });
    expect(lines.length).toBe(7 + 1); // at 1.0, 2.0, … 7.0 s, then done
    expect(lines[0]).toBe('loading the state… 262,144 entries (1.0 s)');
    expect(lines.at(-1)).toBe('loaded the state: 2,000,010 entries in 7.6 s, Merkle root equal to the committed app hash');
  });
});
