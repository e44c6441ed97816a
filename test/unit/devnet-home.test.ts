/**
 * `perpchain init` (chain/devnet/home.ts initHome) and the genesis checks a
 * node runs before it starts (readGenesis), without starting a node: what a
 * fresh home holds (authority = dev0, the feeder key registered and funded
 * like the others, dev keys readable by their owner only and labelled
 * insecure), what it refuses to overwrite, and the exact edges of the genesis
 * fields it checks. test/reliability/homes.test.ts runs nodes on such homes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { homePaths, initHome, readDevAccounts, readGenesis, rfc3339ToNs, type GenesisDoc } from '../../chain/devnet/home.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-home-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(tmp, `h${n++}`);
const readJson = <T>(p: string) => JSON.parse(readFileSync(p, 'utf8')) as T;

describe('initHome: a fresh devnet home', () => {
  it('funds every dev account and the feeder, makes dev0 the market authority and registers the feeder key', async () => {
    const home = fresh();
    const { paths, accounts } = await initHome({ home, chainId: 'perpchain-home-1', accounts: 2, balance: 123n });
    expect(accounts.map((a) => a.name)).toEqual(['dev0', 'dev1', 'feeder']);
    const g = readJson<GenesisDoc>(paths.genesis);
    const app = g.app_state as { bank: { balances: Array<{ address: string; amount: string }> }; perpetuals: { params: { authority: string } }; prices: { params: { feeders: string[] } } };
    // the feeder pays fees for its price reports: it must be funded too
    expect(app.bank.balances).toEqual(accounts.map((a) => ({ address: a.address, amount: '123' })));
    expect(app.perpetuals.params.authority).toBe(accounts[0]!.address);
    expect(app.prices.params.feeders).toEqual([accounts[2]!.address]);
  });

  it('writes the dev keys readable by the owner only, labelled insecure', async () => {
    const { paths } = await initHome({ home: fresh(), chainId: 'perpchain-home-1', accounts: 1 });
    expect(statSync(paths.devKeys).mode & 0o777).toBe(0o600);
    const keys = readJson<{ WARNING: string; accounts: unknown[] }>(paths.devKeys);
    expect(keys.WARNING).toMatch(/^INSECURE DEVELOPMENT KEYS/);
    expect(keys.accounts).toHaveLength(2);
  });

  it('needs at least one account (the market authority)', async () => {
    await expect(initHome({ home: fresh(), chainId: 'perpchain-home-1', accounts: 0 })).rejects.toThrow(/at least one development account/);
  });
});

describe('initHome: what it will not overwrite', () => {
  it('a second init without --overwrite is refused and leaves genesis and keys as they were', async () => {
    const home = fresh();
    const { paths } = await initHome({ home, chainId: 'perpchain-home-1', accounts: 1 });
    const [genesis, keys] = [readFileSync(paths.genesis, 'utf8'), readFileSync(paths.devKeys, 'utf8')];
    await expect(initHome({ home, chainId: 'perpchain-home-2', accounts: 1 })).rejects.toThrow(/already exists \(pass --overwrite/);
    expect(readFileSync(paths.genesis, 'utf8')).toBe(genesis);
    expect(readFileSync(paths.devKeys, 'utf8')).toBe(keys);
    // --overwrite replaces them (new keys)
    await initHome({ home, chainId: 'perpchain-home-2', accounts: 1, overwrite: true });
    expect(readDevAccounts(paths)[0]!.address).not.toBe((JSON.parse(keys) as { accounts: Array<{ address: string }> }).accounts[0]!.address);
  });

  it('keys without a genesis are not replaced silently (their mnemonics would be lost)', async () => {
    const home = fresh();
    const { paths } = await initHome({ home, chainId: 'perpchain-home-1', accounts: 1 });
    rmSync(paths.genesis);
    const keys = readFileSync(paths.devKeys, 'utf8');
    await expect(initHome({ home, chainId: 'perpchain-home-1', accounts: 1 })).rejects.toThrow(/dev-accounts.json already exists but .*genesis.json does not/);
    expect(readFileSync(paths.devKeys, 'utf8')).toBe(keys);
  });

  it('chain data is never replaced, not even with --overwrite', async () => {
    const home = fresh();
    const { paths } = await initHome({ home, chainId: 'perpchain-home-1', accounts: 1 });
    writeFileSync(paths.db, 'committed blocks');
    await expect(initHome({ home, chainId: 'perpchain-home-1', accounts: 1, overwrite: true })).rejects.toThrow(/already holds chain data/);
    expect(readFileSync(paths.db, 'utf8')).toBe('committed blocks');

    // data but no genesis: a damaged home, not a new one
    const damaged = fresh();
    const p = homePaths(damaged);
    mkdirSync(dirname(p.db), { recursive: true });
    writeFileSync(p.db, 'committed blocks');
    await expect(initHome({ home: damaged, chainId: 'perpchain-home-1', accounts: 1, overwrite: true })).rejects.toThrow(/holds chain data .* but no/);
  });
});

describe('readGenesis: the edges of the checked fields', () => {
  const home = fresh();
  const ready = initHome({ home, chainId: 'perpchain-home-1', accounts: 1 }).then(({ paths }) => ({ paths, original: readFileSync(paths.genesis, 'utf8') }));
  /** readGenesis of the fresh home's genesis with one edit (each edit starts from the file initHome wrote). */
  async function withGenesis(edit: (g: GenesisDoc) => void) {
    const { paths, original } = await ready;
    const g = JSON.parse(original) as GenesisDoc;
    edit(g);
    writeFileSync(paths.genesis, JSON.stringify(g));
    return () => readGenesis(paths);
  }

  it('block.max_bytes: 1024 is the smallest accepted (and -1 means CometBFT\'s maximum)', async () => {
    expect((await withGenesis((g) => (g.consensus_params.block.max_bytes = '1024')))()).toBeTruthy();
    expect((await withGenesis((g) => (g.consensus_params.block.max_bytes = '-1')))()).toBeTruthy();
    expect(await withGenesis((g) => (g.consensus_params.block.max_bytes = '1023'))).toThrow(/max_bytes must be at least 1024/);
  });

  it('initial_height: 1 and 2^63-1 are accepted, 0 and 2^63 are not (int64)', async () => {
    expect((await withGenesis((g) => (g.initial_height = '1')))()).toBeTruthy();
    expect((await withGenesis((g) => (g.initial_height = '9223372036854775807')))()).toBeTruthy();
    expect(await withGenesis((g) => (g.initial_height = '0'))).toThrow(/initial_height must be at least 1/);
    expect(await withGenesis((g) => (g.initial_height = '9223372036854775808'))).toThrow(/initial_height/);
  });
});

describe('rfc3339ToNs', () => {
  it('keeps sub-millisecond digits as the fraction they are (".5" is half a second)', () => {
    const s = Date.parse('2026-01-01T00:00:00Z');
    expect(rfc3339ToNs('2026-01-01T00:00:00.5Z')).toBe(BigInt(s) * 1_000_000n + 500_000_000n);
    expect(rfc3339ToNs('2026-01-01T00:00:00.000000001Z')).toBe(BigInt(s) * 1_000_000n + 1n);
    expect(rfc3339ToNs('2026-01-01T01:00:00.123456789+01:00')).toBe(BigInt(s) * 1_000_000n + 123_456_789n);
  });
});
