/**
 * `perpchain sim` (sim/cli.ts) in process: the command registered on a fresh
 * commander program and parsed from an argv, console captured. Checks that
 * each setting flag reaches the config under its own path, that --axis and
 * --sweep run the grid they name (numbered "run i/n" lines), and that the
 * refusals documented in sim/README.md fire before anything is written.
 * Tiny scenario (14 blocks a run), so the whole file takes a few seconds.
 */
import { Command } from 'commander';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerSimCommand } from '../../sim/cli.js';
import { TINY_SCENARIO } from './tiny.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** The tiny scenario as a file, without and with a sweep section. */
const plain = join(tmp, 'tiny.json');
writeFileSync(plain, JSON.stringify(TINY_SCENARIO));
const withSweep = join(tmp, 'tiny-sweep.json');
writeFileSync(withSweep, JSON.stringify({ ...TINY_SCENARIO, sweep: { seed: [3, 4] } }));

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

/** `perpchain sim ARGS…` (progress off: the test's stderr is not a terminal anyway). */
async function sim(...args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerSimCommand(program);
  await program.parseAsync(['node', 'perpchain', 'sim', '--no-progress', ...args]);
}

function unescapeXml(s: string): string {
  return s.replace(/&(quot|apos|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' })[e]!);
}

describe('perpchain sim: flags', () => {
  it('--mmf-ppm, --insurance-fund-usd, --check-invariants N and --db each land where they say', async () => {
    const dir = join(tmp, 'flags');
    const db = join(tmp, 'flags.db');
    await sim('--config', plain, '--out', dir, '--json', '--mmf-ppm', '40000', '--insurance-fund-usd', '1234.5', '--check-invariants', '2', '--db', db);
    const summary = JSON.parse(out.join('\n'));
    expect(summary.insurance_fund.start_usd).toBe('1234.500000');
    // the run's config, as the report prints it
    const config = JSON.parse(unescapeXml(/<h2>Configuration<\/h2><pre>([\s\S]*?)<\/pre>/.exec(readFileSync(join(dir, 'report.html'), 'utf8'))![1]!));
    expect(config.params.mmfPpm).toBe(40_000);
    expect(config.params.imfPpm).toBeUndefined(); // the MMF flag does not set the IMF
    expect(config.checkInvariants).toBe(2); // a number of blocks, not the string "2"
    // 14 blocks checked every 2nd
    expect(summary.invariant_checks).toBe(7);
    // the chain was kept in the sqlite file asked for
    expect(existsSync(db)).toBe(true);
  });
});

describe('perpchain sim: sweeps', () => {
  it('--axis p=v1,v2 runs every value, printing "run i/n" from 1 and writing numbered directories', async () => {
    const dir = join(tmp, 'axis');
    await sim('--config', plain, '--out', dir, '--axis', 'seed=3,4', '--jobs', '1');
    expect(out.filter((l) => l.startsWith('run '))).toEqual([expect.stringMatching(/^run 1\/2 seed=3: bad debt /), expect.stringMatching(/^run 2\/2 seed=4: bad debt /)]);
    expect(readdirSync(dir).filter((n) => /^\d\d-/.test(n))).toEqual(['01-seed=3', '02-seed=4']);
  });

  it("--sweep runs the config's own grid", async () => {
    await sim('--config', withSweep, '--out', join(tmp, 'sweep'), '--sweep', '--jobs', '1');
    expect(out.filter((l) => l.startsWith('run ')).map((l) => l.split(':')[0])).toEqual(['run 1/2 seed=3', 'run 2/2 seed=4']);
  });
});

describe('perpchain sim: refusals, before anything is written', () => {
  it('--sweep on a config without a sweep section says how to give axes', async () => {
    const dir = join(tmp, 'no-sweep');
    await expect(sim('--config', plain, '--out', dir, '--sweep')).rejects.toThrow(/has no "sweep" section; give axes with --axis path=v1,v2/);
    expect(existsSync(dir)).toBe(false);
  });

  it('--jobs 0', async () => {
    const dir = join(tmp, 'jobs0');
    await expect(sim('--config', plain, '--out', dir, '--axis', 'seed=3,4', '--jobs', '0')).rejects.toThrow(/--jobs must be at least 1/);
    expect(existsSync(dir)).toBe(false);
  });

  it('--set with an empty path', async () => {
    await expect(sim('--config', plain, '--out', join(tmp, 'set'), '--set', '=5')).rejects.toThrow(/--set expects path=value, got "=5"/);
  });
});
