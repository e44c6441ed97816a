/**
 * The `perpchain` command with bad input: each case must end at once with a
 * one-line error that names the flag or the file, a non-zero exit code, and
 * nothing written or damaged. (Found by a review of the CLI against its docs:
 * before these fixes a home whose genesis.json was missing was "created"
 * again over its own keys, `--block-interval abc` made blocks as fast as the
 * machine could, and sqlite or JSON errors did not say which file.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { homePaths, initHome } from '../../chain/devnet/home.js';
import { createPriceSource } from '../../chain/oracle/sources.js';
import { App } from '../../chain/app.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function perpchain(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, cwd: tmp });
}

describe('perpchain CLI: bad input ends at once, names its cause, and changes nothing', () => {
  it('start refuses a home that has chain data or keys but lost its genesis (it does not "create" it again over its keys)', async () => {
    const home = join(tmp, 'lost-genesis');
    await initHome({ home, chainId: 'cli-test-1', accounts: 1 });
    const p = homePaths(home);
    // a home that has run: make its data file exist
    const app = App.open({ dbPath: p.db });
    app.close();
    const keys = readFileSync(p.devKeys, 'utf8');
    const config = readFileSync(p.config, 'utf8');
    rmSync(p.genesis);
    const r = perpchain('start', '--home', home, '--api-port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/holds chain data .* but no .*genesis\.json: restore that file, or delete the home to start over/);
    expect(r.stdout).not.toMatch(/created a new devnet home/);
    expect(readFileSync(p.devKeys, 'utf8')).toBe(keys);
    expect(readFileSync(p.config, 'utf8')).toBe(config);
    expect(existsSync(p.genesis)).toBe(false);

    // keys but no data yet: refused too, unless --overwrite says so
    const home2 = join(tmp, 'keys-only');
    await initHome({ home: home2, chainId: 'cli-test-2', accounts: 1 });
    const keys2 = readFileSync(homePaths(home2).devKeys, 'utf8');
    rmSync(homePaths(home2).genesis);
    const r2 = perpchain('init', '--home', home2);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/dev-accounts\.json already exists but .*genesis\.json does not/);
    expect(readFileSync(homePaths(home2).devKeys, 'utf8')).toBe(keys2);
    expect(perpchain('init', '--home', home2, '--overwrite').status).toBe(0);
    expect(readFileSync(homePaths(home2).devKeys, 'utf8')).not.toBe(keys2);
  });

  it('flag values are checked before anything starts, and the error names the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['init', '--home', join(tmp, 'a1'), '--accounts', '0'], /option '--accounts <n>' argument '0' is invalid\. expected 1…1000/],
      [['init', '--home', join(tmp, 'a2'), '--accounts', 'abc'], /option '--accounts <n>' argument 'abc' is invalid\. expected a whole number/],
      [['start', '--home', join(tmp, 'a3'), '--block-interval', 'abc'], /option '--block-interval <ms>' argument 'abc' is invalid/],
      [['start', '--home', join(tmp, 'a4'), '--block-interval', '5'], /option '--block-interval <ms>' argument '5' is invalid\. expected at least 10/],
      [['start', '--home', join(tmp, 'a5'), '--api-port', '70000'], /option '--api-port <port>' argument '70000' is invalid\. expected 0…65535/],
      [['abci', '--home', join(tmp, 'a6'), '--comet-rpc', 'notaurl'], /option '--comet-rpc <url>' argument 'notaurl' is invalid/],
      [['abci', '--home', join(tmp, 'a7'), '--addr', 'bogus'], /cannot parse ABCI address "bogus"/],
    ];
    for (const [args, re] of cases) {
      const r = perpchain(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(r.stdout).not.toMatch(/^block \d+/m);
      expect(existsSync(homePaths(args[2]!).db), args.join(' ')).toBe(false); // nothing opened or created
    }
  });

  it('a damaged genesis.json, node.json or state.db is named in the error', async () => {
    const home = join(tmp, 'damaged');
    await initHome({ home, chainId: 'cli-test-3', accounts: 1 });
    const p = homePaths(home);
    const genesis = readFileSync(p.genesis, 'utf8');
    writeFileSync(p.genesis, genesis.slice(0, 300));
    let r = perpchain('start', '--home', home, '--api-port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/genesis\.json is not valid JSON: /);
    writeFileSync(p.genesis, genesis);

    const config = readFileSync(p.config, 'utf8');
    writeFileSync(p.config, '{ api: 1 }');
    r = perpchain('start', '--home', home, '--api-port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/node\.json is not valid JSON: /);
    writeFileSync(p.config, config);

    writeFileSync(p.db, Buffer.alloc(8192, 0x5a)); // not a database
    r = perpchain('start', '--home', home, '--api-port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(p.db);
    expect(r.stderr).toMatch(/file is not a database/);
  });

  it('a dataset price source waits for the chain to have its markets (they arrive with InitChain, after start-up)', () => {
    let markets: Array<{ id: number; ticker: string; priceExponent: number }> = [];
    const source = createPriceSource('dataset:0=btc-2022-11-08', () => markets);
    expect(() => source()).toThrow(/the chain has no market 0 \(yet\)/);
    markets = [{ id: 0, ticker: 'BTC-USD', priceExponent: -5 }];
    const [p] = source();
    expect(p!.marketId).toBe(0);
    expect(p!.price).toBeGreaterThan(1_000_000_000n); // > $10,000 at 10^-5 USD units
    expect(() => createPriceSource('dataset:0=no-such-data', () => markets)).toThrow(/no-such-data/);
  });
});
