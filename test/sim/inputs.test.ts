import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PriceCsvError } from '../../sim/data/index.js';
import { buildConfig, ConfigError, expandSweep, loadConfig } from '../../sim/config.js';
import { Simulation } from '../../sim/runner.js';

const SHIPPED = join(__dirname, '../../sim/data/prices/binance_um_btcusdt_1m_20210519T1100Z_20210519T1459Z.csv');
const ROOT = join(__dirname, '../..');

/** The first n lines of a shipped binance-kline file (a valid custom CSV). */
function klines(n: number): string[] {
  return readFileSync(SHIPPED, 'utf8').split('\n').slice(0, n);
}

const csvConfig = (file: string) =>
  buildConfig({ name: 'csv', warmupBlocks: 10, markets: [{ id: 0, csv: file, mode: 'step', weight: 1 }], agents: { traders: 5, marketMakers: { perMarket: 1 } } });

describe('risk simulator: inputs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-in-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a custom CSV price file feeds a run (resampled to the block cadence)', () => {
    writeFileSync(join(tmp, 'good.csv'), klines(3).join('\n') + '\n');
    const sim = new Simulation(csvConfig('good.csv'), { baseDir: tmp });
    expect(sim.length).toBe(180); // 3 one-minute candles at 1 s blocks
    sim.run(30);
    expect(sim.height).toBe(30);
    sim.close();
  });

  it('a malformed row is rejected with the file and its line number', () => {
    const lines = klines(6);
    lines[3] = lines[3]!.replace(/^(\d+),([0-9.]+),/, '$1,abc,'); // line 4: open is not a number
    writeFileSync(join(tmp, 'bad.csv'), lines.join('\n') + '\n');
    let err: unknown;
    try {
      new Simulation(csvConfig('bad.csv'), { baseDir: tmp });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PriceCsvError);
    expect((err as PriceCsvError).line).toBe(4);
    expect((err as PriceCsvError).message).toContain(join(tmp, 'bad.csv'));
    expect((err as PriceCsvError).message).toMatch(/:4: open "abc"/);

    lines[3] = klines(6)[3]!;
    lines[4] = lines[4]!.split(',').slice(0, 7).join(','); // line 5: too few columns
    writeFileSync(join(tmp, 'bad2.csv'), lines.join('\n') + '\n');
    expect(() => new Simulation(csvConfig('bad2.csv'), { baseDir: tmp })).toThrow(/bad2\.csv:5: expected 12 columns/);
  });

  it('config errors name the path of every problem', () => {
    expect(() => buildConfig({ name: 'x', markets: [{ id: 0, dataset: 'btc-2020-03-12', mode: 'linear-path', weight: 1 }], params: { mmfPpm: -1 }, agents: { traders: 'many' } })).toThrow(ConfigError);
    try {
      buildConfig({ name: 'x', markets: [{ id: 0, dataset: 'btc-2020-03-12', mode: 'linear-path', weight: 1 }], params: { mmfPpm: -1 }, agents: { traders: 'many' } });
    } catch (e) {
      expect((e as Error).message).toContain('params.mmfPpm');
      expect((e as Error).message).toContain('agents.traders');
    }
    expect(() => buildConfig({ name: 'x', markets: [{ id: 0, dataset: 'btc-2020-03-12', csv: 'x.csv', mode: 'step', weight: 1 }] })).toThrow(/exactly one of dataset or csv/);
    expect(() => buildConfig({ name: 'x', markets: [{ id: 0, dataset: 'btc-2020-03-12', mode: 'step', weight: 1 }], unknownKey: 1 })).toThrow(ConfigError);
  });

  it('every shipped scenario validates, and so does every point of its sweep', () => {
    const dir = join(ROOT, 'sim/scenarios');
    const names = execFileSync('ls', [dir]).toString().trim().split('\n').filter((f) => f.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const n of names) {
      const { config } = loadConfig(join(dir, n));
      expect(config.description.length).toBeGreaterThan(20);
      expect(config.sweep).toBeDefined();
      expect(expandSweep(config, config.sweep!).length).toBeGreaterThan(1);
      // the price series loads (windows inside the data)
      const sim = new Simulation({ ...config, agents: { ...config.agents, traders: 0, marketMakers: { ...config.agents.marketMakers, perMarket: 0 } }, blocks: 2 }, { baseDir: dir });
      expect(sim.length).toBe(2);
      sim.close();
    }
  });

  it('the CLI runs a scenario and writes the summary, the CSV series and the report; a bad CSV exits 1 naming the line', () => {
    const out = join(tmp, 'cli-out');
    const cfg = join(tmp, 'cli.json');
    writeFileSync(cfg, JSON.stringify({ name: 'cli', warmupBlocks: 10, markets: [{ id: 0, csv: 'good.csv', mode: 'step', weight: 1 }], agents: { traders: 10, marketMakers: { perMarket: 1 } } }));
    writeFileSync(join(tmp, 'good.csv'), klines(3).join('\n') + '\n');
    const ok = spawnSync(process.execPath, [join(ROOT, 'bin/perpchain.mjs'), 'sim', '--config', cfg, '--blocks', '20', '--seed', '5', '--out', out, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(ok.status, ok.stderr).toBe(0);
    for (const f of ['summary.json', 'blocks.csv', 'margin.csv', 'report.html']) expect(existsSync(join(out, f))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    // with --json, stdout is the summary alone (a pipe into jq works); the file list went to stderr
    expect(JSON.parse(ok.stdout)).toEqual(summary);
    expect(ok.stderr).toContain(join(out, 'report.html'));
    expect(summary.seed).toBe(5);
    expect(summary.blocks).toEqual({ warmup: 10, scenario: 20, total: 30 });
    expect(readFileSync(join(out, 'blocks.csv'), 'utf8').trim().split('\n')).toHaveLength(31);

    const lines = klines(4);
    lines[2] = lines[2]!.replace(/,0$/, ',0,extra');
    writeFileSync(join(tmp, 'good.csv'), lines.join('\n') + '\n');
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/perpchain.mjs'), 'sim', '--config', cfg, '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/good\.csv:3: expected 12 columns/);
  });

  it('the CLI refuses, before running, what it could only fail at the end or silently ignore', () => {
    const cfg = join(tmp, 'cli2.json');
    writeFileSync(cfg, JSON.stringify({ name: '../../escape', warmupBlocks: 10, markets: [{ id: 0, csv: 'good.csv', mode: 'step', weight: 1 }], agents: { traders: 5, marketMakers: { perMarket: 1 } } }));
    writeFileSync(join(tmp, 'good.csv'), klines(3).join('\n') + '\n');
    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/perpchain.mjs'), 'sim', '--config', cfg, '--no-progress', ...args], { encoding: 'utf8', timeout: 120_000, cwd: tmp });
    // a typo in a nested key, from a flag or from the file, is an error naming it (it used to be dropped)
    const typo = run('--set', 'agents.marketMakers.levelz=3');
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/with the command line's agents\.marketMakers\.levelz: agents\.marketMakers: Unrecognized key: "levelz"/);
    // a bad flag value is blamed on the command line, not on the file
    const neg = run('--traders', '-5');
    expect(neg.status).toBe(1);
    expect(neg.stderr).toMatch(/cli2\.json with the command line's agents\.traders: agents\.traders: Too small/);
    // --out naming a file, and --db in a sweep, fail at once
    writeFileSync(join(tmp, 'a-file'), 'x');
    const outFile = run('--out', join(tmp, 'a-file'), '--blocks', '5');
    expect(outFile.status).toBe(1);
    expect(outFile.stderr).toMatch(/a-file exists and is not a directory/);
    const dbSweep = run('--axis', 'seed=1,2', '--db', join(tmp, 'x.db'));
    expect(dbSweep.status).toBe(1);
    expect(dbSweep.stderr).toMatch(/--db keeps one run's chain state/);
    expect(existsSync(join(tmp, 'x.db'))).toBe(false);
    // the default output directory stays inside sim-out/, whatever the scenario's name
    const ok = run('--blocks', '5');
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(join(tmp, 'sim-out', 'escape', 'summary.json'))).toBe(true);
  });

  it('nested config objects reject unknown keys (a typo is not silently ignored)', () => {
    const base = { name: 'x', markets: [{ id: 0, dataset: 'btc-2020-03-12', mode: 'linear-path', weight: 1 }] };
    expect(() => buildConfig({ ...base, agents: { traderz: 20 } })).toThrow(/agents: Unrecognized key: "traderz"/);
    expect(() => buildConfig({ ...base, params: { mmfPPm: 1 } })).toThrow(/params: Unrecognized key: "mmfPPm"/);
    expect(() => buildConfig({ ...base, markets: [{ ...base.markets[0], bogus: 1 }] })).toThrow(/markets\.0: Unrecognized key: "bogus"/);
    expect(() => expandSweep(buildConfig(base), { 'params.nope': [1, 2] })).toThrow(ConfigError);
  });
});
